// The other engines for the end-to-end tests, beside Chromium: WebKit (Debian's WebKitGTK,
// the engine of Safari and of every browser on an iPhone) and Gecko (Debian's Firefox ESR),
// each driven over W3C WebDriver by selenium-webdriver through its own driver: WebKitGTK's
// WebKitWebDriver in a virtual X display (Xvfb), and geckodriver (from crates.io) with a
// headless Firefox. Playwright drives only its own patched builds of these, which are in no
// package registry.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Builder, Origin } from "selenium-webdriver";

/** WebKitGTK's browser for automation, as Debian installs it. */
const MINIBROWSER = ["/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser"].find(existsSync);

async function freePort() {
  const srv = createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

/** The engines, by name: how to start each one's WebDriver server, and what to ask it for. */
export const ENGINES = {
  WebKit: {
    // WebKit's web processes sandbox themselves with bubblewrap, which cannot make its
    // namespaces inside this machine's container; the pages loaded are the tests' own.
    driver: (port) => ["xvfb-run", ["-a", "-s", "-screen 0 1280x1024x24", "WebKitWebDriver", `--port=${port}`], { WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: "1" }],
    capabilities: () => {
      if (!MINIBROWSER) throw new Error("WebKitGTK's MiniBrowser is missing: scripts/install-tools.sh installs webkit2gtk-driver");
      return { browserName: "MiniBrowser", "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } };
    },
  },
  Firefox: {
    driver: (port) => [GECKODRIVER, [`--port=${port}`, "--log", "fatal"], {}],
    capabilities: () => ({ browserName: "firefox", "moz:firefoxOptions": { binary: "/usr/bin/firefox-esr", args: ["-headless"] } }),
  },
};

/** geckodriver, where `cargo install` puts it. */
const GECKODRIVER = [join(process.env.CARGO_HOME || join(homedir(), ".cargo"), "bin", "geckodriver")].find(existsSync) || "geckodriver";

/**
 * Starts the WebDriver server of `engine` (a key of [`ENGINES`]) and opens one browser
 * window of `width` × `height` CSS pixels. Returns the selenium `driver` and `stop()`.
 */
export async function startEngine(engine, { width = 1024, height = 900 } = {}) {
  const { driver: command, capabilities } = ENGINES[engine];
  const port = await freePort();
  const [program, args, extraEnv] = command(port);
  // Its own group, so that stopping it stops the browser it starts; stopped with this process
  // too, should the tests end without their `after` hooks.
  const child = spawn(program, args, { env: { ...process.env, ...extraEnv }, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let said = "";
  child.stderr.on("data", (chunk) => { said = (said + chunk).slice(-2000); });
  let ended = null;
  child.on("error", (error) => { ended = String(error); });
  child.on("exit", (code) => { ended ??= `exit code ${code}`; });
  const stopChild = () => { try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ } };
  process.once("exit", stopChild);
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let start = Date.now(); ; ) {
      try {
        if ((await fetch(`${url}/status`)).ok) break;
      } catch { /* not up yet */ }
      if (ended !== null) throw new Error(`${program} stopped (${ended}): ${said}`);
      if (Date.now() - start > 30_000) throw new Error(`${program} did not start within 30 s: ${said}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const driver = await new Builder().usingServer(url).withCapabilities(capabilities()).build();
    await driver.manage().window().setRect({ width, height });
    const stop = async () => {
      await driver.quit().catch(() => {});
      stopChild();
      process.removeListener("exit", stopChild);
    };
    return { driver, stop };
  } catch (error) {
    stopChild();
    throw error;
  }
}

/** Polls `script` in the current frame until it returns something truthy; returns that. */
export async function until(driver, script, what, timeoutMs = 20_000, ...args) {
  for (const start = Date.now(); ; ) {
    const value = await driver.executeScript(script, ...args);
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A real mouse click (trusted events) at the middle of `element`, scrolled into view first.
 * WebKitGTK's element click refuses elements inside a shadow root ("not interactable"), so
 * the pointer goes to the element's place in the viewport instead.
 */
export async function tap(driver, element) {
  await driver.executeScript("arguments[0].scrollIntoView({ block: 'center' })", element);
  await new Promise((r) => setTimeout(r, 150));
  const [x, y] = await driver.executeScript(
    "const r = arguments[0].getBoundingClientRect(); return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)]",
    element,
  );
  await driver.actions().move({ x, y, origin: Origin.VIEWPORT }).press().release().perform();
  await driver.actions().clear();
}

/** Real key presses, as a keyboard types them, into whatever has focus. */
export async function typeKeys(driver, text) {
  await driver.actions().sendKeys(text).perform();
  await driver.actions().clear();
}
