"""Drive the web UI in headless Chromium as a person would (run by
tests/webui.rs with the test virtualenv's Python).

Usage: browser.py <scenario> <base url> <user> <password> <shots dir> <max stopwaitsecs>

Scenarios:
  walk   the whole walk: status, stop/start in place, restart a group,
         filter, log view following new output, stop all after confirming
  tti    time to interactive of a big page: prints `ready_ms=<n> rows=<n>`
  look   as the read-only login: every process shown, only Log buttons

Every wait is on a condition with a deadline; a failed check raises, and
the exit status tells the Rust test.
"""

import base64
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SCENARIO, BASE, USER, PASSWORD, SHOTS, STOPWAIT = sys.argv[1:7]
STOPWAIT = int(STOPWAIT)
WAIT = 20 + STOPWAIT


def browser():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1200,860", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # A stop waits up to stopwaitsecs before its answer: no page load may
    # be cut short before that.
    driver.set_page_load_timeout(STOPWAIT + 30)
    driver.set_script_timeout(STOPWAIT + 30)
    if USER:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                               {"headers": {"Authorization": "Basic " + token}})
    return driver


def until(driver, what, test, limit=WAIT):
    try:
        return WebDriverWait(driver, limit, poll_frequency=0.05).until(lambda d: test())
    except TimeoutException:
        shot(driver, "failed-" + what.replace(" ", "-")[:40])
        raise AssertionError("timed out waiting for " + what)


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def row(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'tr.proc[data-name="{name}"]')


def state(driver, name):
    return row(driver, name).get_attribute("data-state")


def click(driver, name, action):
    row(driver, name).find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]').click()


def load(driver):
    driver.get(BASE + "/")
    until(driver, "the first poll", lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-polls"))
    # Marks this page load: it must survive every action (no reload).
    driver.execute_script("window.__sameLoad = 'yes'")


def same_load(driver):
    assert driver.execute_script("return window.__sameLoad") == "yes", "the page was reloaded"


def walk(driver):
    load(driver)
    for name, expected in (("web", "RUNNING"), ("slowstop", "RUNNING"), ("grp:ga", "RUNNING"),
                           ("grp:gb", "RUNNING"), ("idle", "STOPPED")):
        until(driver, f"{name} {expected}", lambda: state(driver, name) == expected)
    assert "Supervisor 4.3.0" in driver.find_element(By.ID, "svinfo").text
    until(driver, "the health column", lambda: row(driver, "checked").find_element(By.CSS_SELECTOR, "td.health").text == "healthy")
    shot(driver, "01-status")

    # Stop one: the stop waits for stopwaitsecs (the program ignores TERM),
    # and the page shows it is working, then the new state, in place.
    click(driver, "slowstop", "stop")
    until(driver, "stop progress", lambda: "Stopping" in row(driver, "slowstop").text)
    shot(driver, "02-stopping")
    until(driver, "slowstop stopped", lambda: state(driver, "slowstop") == "STOPPED")
    until(driver, "stop message", lambda: "Process slowstop stopped" in driver.find_element(By.ID, "msg").text)
    same_load(driver)

    click(driver, "slowstop", "start")
    until(driver, "slowstop running again", lambda: state(driver, "slowstop") == "RUNNING")
    same_load(driver)

    # A start that fails is reported in place, in its row.
    click(driver, "broken", "start")
    until(driver, "the spawn error in its row",
          lambda: "ERROR" in row(driver, "broken").text or "no such file" in row(driver, "broken").text.lower())

    # Restart a group: both members get new pids.
    before = {n: row(driver, n).find_element(By.CSS_SELECTOR, "td.pid").text for n in ("grp:ga", "grp:gb")}
    group = driver.find_element(By.CSS_SELECTOR, 'tr.grouprow[data-group="grp"]')
    group.find_element(By.CSS_SELECTOR, 'button[data-action="restartgroup"]').click()
    until(driver, "group restarted", lambda: "Group grp restarted" in driver.find_element(By.ID, "msg").text)
    until(driver, "new pids", lambda: all(
        state(driver, n) == "RUNNING" and row(driver, n).find_element(By.CSS_SELECTOR, "td.pid").text not in ("", before[n])
        for n in before))
    # Collapse and expand the group.
    group.find_element(By.CSS_SELECTOR, "button.toggle").click()
    until(driver, "group collapsed", lambda: not row(driver, "grp:ga").is_displayed())
    group.find_element(By.CSS_SELECTOR, "button.toggle").click()
    until(driver, "group expanded", lambda: row(driver, "grp:ga").is_displayed())

    # Signal a process (the page asks which signal), then reread.
    click(driver, "grp:ga", "signal")
    until(driver, "the signal prompt", lambda: alert(driver))
    prompt = driver.switch_to.alert
    prompt.send_keys("CONT")
    prompt.accept()
    until(driver, "signal sent", lambda: "Signalled grp:ga with CONT" in driver.find_element(By.ID, "msg").text)
    driver.find_element(By.ID, "reread").click()
    until(driver, "reread result", lambda: "No config updates to processes" in driver.find_element(By.ID, "msg").text)
    same_load(driver)

    # Filter by name.
    box = driver.find_element(By.ID, "filter")
    box.send_keys("ga")
    until(driver, "filtered rows", lambda: row(driver, "grp:ga").is_displayed() and not row(driver, "web").is_displayed())
    shot(driver, "03-filter")
    box.clear()
    box.send_keys(" ")
    until(driver, "filter cleared", lambda: row(driver, "web").is_displayed())

    # The log view: follow new output; colours rendered, never raw.
    click(driver, "web", "log")
    log = driver.find_element(By.ID, "logtext")
    until(driver, "log text", lambda: "tick" in log.text)
    first = log.text
    until(driver, "new output while following", lambda: log.text != first and log.text.startswith(first[:20]))
    assert "\x1b" not in log.text and "[31m" not in log.text, "raw ANSI codes in the log view"
    assert driver.find_elements(By.CSS_SELECTOR, "#logtext span.a31"), "red text not rendered"
    shot(driver, "04-log")
    driver.find_element(By.CSS_SELECTOR, '#log [data-channel="stderr"]').click()
    until(driver, "stderr tab", lambda: "oops" in log.text and "tick" not in log.text)
    driver.find_element(By.ID, "logclose").click()
    until(driver, "log closed", lambda: not driver.find_element(By.ID, "log").is_displayed())

    # Stop all, only after confirming.
    driver.find_element(By.ID, "stopall").click()
    until(driver, "the confirmation", lambda: alert(driver))
    driver.switch_to.alert.dismiss()
    assert state(driver, "web") == "RUNNING", "dismissed Stop All stopped something"
    driver.find_element(By.ID, "stopall").click()
    until(driver, "the confirmation again", lambda: alert(driver))
    driver.switch_to.alert.accept()
    until(driver, "all stopped", lambda: all(
        state(driver, n) in ("STOPPED", "EXITED", "FATAL") for n in ("web", "slowstop", "grp:ga", "grp:gb", "idle", "checked")))
    until(driver, "stop all message", lambda: "All stopped" in driver.find_element(By.ID, "msg").text)
    same_load(driver)
    shot(driver, "05-stopped-all")


def alert(driver):
    try:
        driver.switch_to.alert
        return True
    except NoAlertPresentException:
        return False


def tti(driver):
    driver.get(BASE + "/")
    until(driver, "the first poll", lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    ready = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    rows = len(driver.find_elements(By.CSS_SELECTOR, "tr.proc"))
    # And the page stays usable: filtering every row, layout included, is
    # measured inside the page (WebDriver round trips would dominate).
    filter_ms, visible = driver.execute_script("""
        var f = document.getElementById('filter'), t0 = performance.now();
        f.value = 'p3_04'; f.dispatchEvent(new Event('input'));
        document.body.offsetHeight;
        var ms = performance.now() - t0;
        var shown = Array.prototype.filter.call(document.querySelectorAll('tr.proc'),
            function (r) { return r.offsetParent !== null; }).length;
        return [Math.round(ms), shown];""")
    assert visible == 10, f"{visible} rows shown for p3_04"
    until(driver, "a second poll", lambda: int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-polls")) >= 2)
    render_ms = driver.find_element(By.TAG_NAME, "body").get_attribute("data-render-ms")
    shot(driver, "06-500")
    print(f"ready_ms={ready} rows={rows} filter_ms={filter_ms} poll_render_ms={render_ms}")


def look(driver):
    load(driver)
    until(driver, "web running", lambda: state(driver, "web") == "RUNNING")
    shown = [b.get_attribute("data-action") for b in driver.find_elements(By.CSS_SELECTOR, "button[data-action]")
             if b.is_displayed()]
    assert "stop" not in shown and "stopall" not in shown and "restartgroup" not in shown, shown
    assert "log" in shown and "mainlog" in shown, shown
    click(driver, "web", "log")
    until(driver, "the log for the viewer", lambda: "tick" in driver.find_element(By.ID, "logtext").text)
    shot(driver, "07-readonly")


def main():
    driver = browser()
    try:
        {"walk": walk, "tti": tti, "look": look}[SCENARIO](driver)
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, f"browser console errors: {errors}"
    finally:
        driver.quit()
    print("OK")


main()
