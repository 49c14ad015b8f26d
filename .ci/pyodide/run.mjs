// Run pytest inside Pyodide (CPython compiled to WebAssembly) under Node.js.
//
//   node run.mjs PYODIDE_DIR SITE_DIR CLONE [PYTEST_ARGS...]
//
// PYODIDE_DIR: a folder where `npm install pyodide@X` was run.
// SITE_DIR:    a host folder of unpacked pure-Python wheels and microtape's metadata; it is
//              mounted over Pyodide's own (empty) site-packages, so it counts as installed.
// CLONE:       the clone to test, mounted at the same absolute path; pytest runs there.
// Exit status: pytest's (3 if Python itself failed).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [pyodideDir, siteDir, clone, ...pytestArgs] = process.argv.slice(2);
if (!pyodideDir || !siteDir || !clone) {
  console.error("usage: node run.mjs PYODIDE_DIR SITE_DIR CLONE [PYTEST_ARGS...]");
  process.exit(2);
}
const pyodideModule = join(resolve(pyodideDir), "node_modules", "pyodide", "pyodide.mjs");
const { loadPyodide } = await import(pathToFileURL(pyodideModule).href);

// The variables the suite reads, passed on from this process: CI (hypothesis's
// deterministic profile) and MICROTAPE_EXAMPLES_SCALE (tests/conftest.py). No bytecode is
// written: the clone and the site folder are host folders, and stay as they were.
const env = { HOME: "/home/pyodide", PYTHONDONTWRITEBYTECODE: "1" };
for (const name of ["CI", "MICROTAPE_EXAMPLES_SCALE"]) {
  if (process.env[name] !== undefined) env[name] = process.env[name];
}
const py = await loadPyodide({ env });
// Unbuffered output, straight to this process's stdout and stderr; not a terminal.
const raw = (stream) => ({
  write: (bytes) => {
    stream.write(bytes);
    return bytes.length;
  },
  isatty: false,
});
py.setStdout(raw(process.stdout));
py.setStderr(raw(process.stderr));

const mount = (hostPath, where) => {
  py.FS.mkdirTree(where);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: resolve(hostPath) }, where);
};
const sitePackages = py.runPython("import site; site.getsitepackages()[0]");
mount(siteDir, sitePackages);
mount(clone, resolve(clone));
// The .pth file in the mounted site-packages (the clone's source folders) takes effect now.
py.runPython(`import site; site.addsitedir(${JSON.stringify(sitePackages)})`);

const here = dirname(fileURLToPath(import.meta.url));
const driver = readFileSync(join(here, "run.py"), "utf8");
const ns = py.globals.get("dict")();
ns.set("__name__", "microtape_pyodide_driver");
py.runPython(driver, { globals: ns, filename: join(here, "run.py") });
let code;
try {
  const argv = py.toPy([resolve(clone), ...pytestArgs]);
  code = ns.get("main")(argv);
  argv.destroy();
} catch (err) {
  console.error(String(err));
  code = 3;
}
process.exit(typeof code === "number" ? code : 3);
