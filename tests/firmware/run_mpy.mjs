// Run a script in real MicroPython (the WebAssembly port) under node, for the firmware tests.
//
//   node run_mpy.mjs [--ulab] [--heap BYTES] [--lib DIR]... [--flash DIR] SCRIPT.py
//
// --lib DIR    copies DIR's tree into /lib (on MicroPython's default sys.path), read-only use.
// --flash DIR  copies DIR into /flash, makes it the working directory, and writes /flash back to
//              DIR when the script ends, also when it raised: the board's filesystem persists
//              across a "reset" (the next run with the same DIR).
// --turn FILE --turns N  after the script, runs FILE's code N times, each as its own top-level
//              call. The WebAssembly port can only collect garbage between top-level calls
//              (it cannot scan the wasm stack mid-call), so a loop measured for heap runs one
//              turn per call, with a collection in between, as the board's GC would.
// --finally FILE  code run once at the end (e.g. to print the measurements).
// --romfs FILE a ROMFS image (mpremote romfs build), mounted at /rom: modules run from it in
//              place, their bytecode outside the heap, as on a board with a ROMFS partition.
// Script output goes to stdout; a Python exception prints its traceback to stderr, exit 1.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.join(here, "..", "..", "node_modules", "@micropython",
  "micropython-webassembly-pyscript");

const args = process.argv.slice(2);
const libs = [];
let flash = null, ulab = false, heap = 8 * 1024 * 1024, script = null;
let turn = null, turns = 0, fin = null, romfs = undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--ulab") ulab = true;
  else if (a === "--heap") heap = parseInt(args[++i], 10);
  else if (a === "--lib") libs.push(args[++i]);
  else if (a === "--flash") flash = args[++i];
  else if (a === "--turn") turn = fs.readFileSync(args[++i], "utf8");
  else if (a === "--turns") turns = parseInt(args[++i], 10);
  else if (a === "--romfs") romfs = fs.readFileSync(args[++i]);
  else if (a === "--finally") fin = fs.readFileSync(args[++i], "utf8");
  else script = a;
}
if (!script) {
  console.error("usage: run_mpy.mjs [--ulab] [--heap BYTES] [--lib DIR]... [--flash DIR] SCRIPT.py");
  process.exit(2);
}

const { loadMicroPython } = await import(path.join(pkg, "micropython.mjs"));
const mp = await loadMicroPython({
  heapsize: heap,
  romfs,
  url: path.join(pkg, ulab ? "micropython-ulab.wasm" : "micropython.wasm"),
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

function copyIn(hostDir, mpDir) {
  try { mp.FS.mkdir(mpDir); } catch { /* exists */ }
  for (const ent of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const src = path.join(hostDir, ent.name), dst = mpDir + "/" + ent.name;
    if (ent.isDirectory()) { if (ent.name !== "__pycache__") copyIn(src, dst); }
    else mp.FS.writeFile(dst, fs.readFileSync(src));
  }
}

function copyOut(mpDir, hostDir) {
  fs.rmSync(hostDir, { recursive: true, force: true });
  fs.mkdirSync(hostDir, { recursive: true });
  for (const name of mp.FS.readdir(mpDir)) {
    if (name === "." || name === "..") continue;
    const src = mpDir + "/" + name, dst = path.join(hostDir, name);
    if (mp.FS.isDir(mp.FS.stat(src).mode)) copyOut(src, dst);
    else fs.writeFileSync(dst, mp.FS.readFile(src));
  }
}

for (const lib of libs) copyIn(lib, "/lib");
if (flash) copyIn(flash, "/flash");
const prelude = flash ? "import os\nos.chdir('/flash')\n" : "";
let code = 0;
try {
  mp.runPython(prelude + fs.readFileSync(script, "utf8"));
  for (let t = 0; turn && t < turns; t++) mp.runPython(turn);
  if (fin) mp.runPython(fin);
} catch (e) {
  process.stderr.write((e && e.message ? e.message : String(e)) + "\n");
  code = 1;
}
if (flash) copyOut("/flash", flash);
process.exit(code);
