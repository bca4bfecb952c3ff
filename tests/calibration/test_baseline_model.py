"""The baseline workflow end to end on the stepping virtual elevator (time runs faster than
real time): guided trips, anomalous trips rejected, stability verdict, baseline learned,
calibration written, report rendered with order lines where the geometry puts them, and the
summary queued as an event; an interrupted capture changes nothing."""

from __future__ import annotations

import json

import pytest

from agent.outbox import Outbox
from calibration import baseline_flow, document
from tests.calibration.conftest import Answers, ScheduledModelRig, box_config, make_session
from tests.support.schemas import validate

# matplotlib 3.9 calls pyparsing names that pyparsing 3.2 deprecates (log-axis tick labels)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _inject(name, value=True):
    return lambda model: model.inject(name, value)


def _clear(name):
    return lambda model: model.clear(name)


@pytest.fixture(scope="module")
def commissioned(tmp_path_factory, model_factory_module):
    """One baseline calibration with a door fault and a stop between floors on the way."""
    tmp = tmp_path_factory.mktemp("baseline")
    cfg = box_config(tmp)
    rig = ScheduledModelRig(model_factory_module(), after_call={
        # the safety chain opens mid-run (E41, brake stop), closed again 10 s later
        2: [(3.0, _inject("safety_circuit_open")), (13.0, _clear("safety_circuit_open"))],
        # the car stops between floors with a passenger, released 10 s later
        4: [(0.5, _inject("trapped", "between_floors")), (10.0, _clear("trapped"))],
    })
    answers = Answers(["n"])  # "capture N more trips?" -> no
    s = make_session(cfg, lambda: rig, answers)
    updates, trips, verdicts = baseline_flow.baseline(s, 4)
    doc, report = s.commit("baseline", updates, trips, verdicts)
    return {"cfg": cfg, "doc": doc, "report": report, "trips": trips, "out": answers.out,
            "tmp": tmp, "session": s}


@pytest.fixture(scope="module")
def model_factory_module():
    from drivers.sim.model import ElevatorModel
    from drivers.sim.params import SimParams

    return lambda seed=3: ElevatorModel(
        SimParams().with_overrides(["traffic.random_calls=false"]), seed=seed)


def test_trips_with_a_fault_or_a_stop_between_floors_are_rejected(commissioned):
    reasons = [t.rejected for t in commissioned["trips"] if t.rejected]
    assert any(r.startswith("fault: controller showed E41") for r in reasons)
    assert any(r.startswith("mid-way") for r in reasons)
    assert sum(1 for t in commissioned["trips"] if not t.rejected) == 4


def test_the_technician_is_told_how_many_more_trips_would_help(commissioned):
    text = commissioned["out"].getvalue()
    assert "more trip(s) would pin every feature's median" in text
    assert "trip 1/4 [" in text and "ETA" in text


def test_the_calibration_holds_the_learned_baseline_and_validates(commissioned):
    doc = document.load(commissioned["tmp"] / "calibration.json")
    assert doc["version"] == 1 and doc["technician"] == "li.wei"
    assert doc["baseline"]["schema"] == "liftguard.baseline/1"
    assert "rope.strand_prom" in doc["baseline"]["features"]
    assert doc["thresholds"] == {"warning_score": 5.0, "critical_score": 10.0}
    assert doc["history"][-1]["workflow"] == "baseline"


def test_the_report_draws_the_order_lines_at_the_geometry_frequencies(commissioned):
    from calibration import report

    s = commissioned["session"]
    trips = [t for t in commissioned["trips"] if not t.rejected]
    fastest = max(trips, key=lambda t: t.cruise_speed)
    base = document.load(commissioned["tmp"] / "calibration.json")["baseline"]
    from agent.detectors.baseline import Baseline

    fig = report.spectrum_figure(fastest, s.geometry(),
                                 Baseline.from_json(base, "b"), 5.0)
    g, v = s.geometry(), fastest.cruise_speed
    assert fig.marks["strand_orders_hz"] == pytest.approx([k * g.strand_hz(v) for k in (1, 2, 3)])
    assert fig.marks["sheave_orders_hz"] == pytest.approx([k * g.sheave_hz(v) for k in range(1, 5)])
    assert fig.marks["band_limits_hz"] == fig.marks["strand_orders_hz"]
    # and the data under the first line peaks there: the line marks a real spectral line
    f, p = fastest.spectrum
    near = (f > 0.9 * g.strand_hz(v)) & (f < 1.1 * g.strand_hz(v))
    assert f[near][p[near].argmax()] == pytest.approx(g.strand_hz(v), rel=0.01)
    assert fig.png.startswith(b"\x89PNG")


def test_the_report_is_one_html_file_with_embedded_plots_and_a_summary(commissioned):
    html = commissioned["report"].read_text()
    assert html.count("data:image/png;base64,") == 4
    assert "Commissioning report" in html and "li.wei" in html and "s1/L2" in html
    assert "4 accepted" in html


def test_the_calibration_summary_is_queued_as_an_event_for_the_maintenance_trail(commissioned):
    box = Outbox(commissioned["tmp"] / "outbox.db", lambda: 0.0)
    try:
        rows = box.pending("durable", 0, 10)
    finally:
        box.close()
    events = [validate("event", json.loads(r.payload)) for r in rows if r.channel == "event"]
    cal = [e for e in events if e["kind"] == "calibration"]
    assert len(cal) == 1
    assert cal[0]["detail"]["version"] == 1 and cal[0]["detail"]["workflow"] == "baseline"
    assert cal[0]["detail"]["checksum"] == commissioned["doc"]["checksum"]


def test_ctrl_c_during_the_capture_leaves_the_previous_calibration_byte_identical(
        commissioned, model_factory_module, tmp_path):
    path = commissioned["tmp"] / "calibration.json"
    before = path.read_bytes()
    prev = document.previous_path(path)
    prev_before = prev.read_bytes() if prev.exists() else None
    reports = sorted((commissioned["tmp"] / "reports").iterdir())
    rig = ScheduledModelRig(model_factory_module(seed=5), interrupt_after=150)
    s = make_session(commissioned["cfg"], lambda: rig, Answers([]))
    with pytest.raises(KeyboardInterrupt):
        updates, trips, verdicts = baseline_flow.baseline(s, 4)
        s.commit("baseline", updates, trips, verdicts)
    assert path.read_bytes() == before
    assert (prev.read_bytes() if prev.exists() else None) == prev_before
    assert sorted((commissioned["tmp"] / "reports").iterdir()) == reports


@pytest.mark.parametrize("fault, passes", [(None, True), ("rope_wear", False)])
def test_verify_passes_a_healthy_lift_and_fails_a_worn_rope(commissioned, model_factory_module,
                                                           fault, passes):
    model = model_factory_module(seed=11)
    if fault:
        model.inject(fault, 1.0)
    path = commissioned["tmp"] / "calibration.json"
    before = path.read_bytes()
    s = make_session(commissioned["cfg"], lambda: ScheduledModelRig(model), Answers([]))
    results = {item: (ok, detail) for item, ok, detail in baseline_flow.verify(s, 2)}
    assert results["baseline (wear scores)"][0] is passes, results
    assert path.read_bytes() == before  # verify writes nothing
