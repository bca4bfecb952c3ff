"""Signed commands on `cmd`: Ed25519 verification, replay counters, a dispatch table."""

from agent.commands.builtin import Diagnostics, install_builtin
from agent.commands.counters import CounterFileCorrupt, CounterStore
from agent.commands.processor import CommandProcessor
from agent.commands.signing import load_trusted_keys, sign
from agent.commands.table import (
    CommandContext,
    CommandFailed,
    CommandTable,
    Param,
    ThresholdTable,
)
from agent.commands.verify import CommandRejected, CommandVerifier, VerifyPolicy

__all__ = ["CommandContext", "CommandFailed", "CommandProcessor", "CommandRejected",
           "CommandTable", "CommandVerifier", "CounterFileCorrupt", "CounterStore",
           "Diagnostics", "Param", "ThresholdTable", "VerifyPolicy", "install_builtin",
           "load_trusted_keys", "sign"]
