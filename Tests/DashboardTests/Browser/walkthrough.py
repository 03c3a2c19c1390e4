"""Walks an operator's way through the dashboard in headless Chromium against a real cluster, saving a
screenshot of every step: a wrong token is refused; sign in; both hosts listed; a report changes the
table; the host view; a job's output and exit status; a cancelled job; a lost connection shown and
recovered; a host going offline when its agent is killed. The token never shows in the URL or the log.

Usage: walkthrough.py CONFIG_JSON (written by DashboardBrowserTests)."""

import json
import os
import sys
import tempfile

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser import await_test, log, start_browser, wait_until

config = json.loads(sys.argv[1])
shots = config["screenshots"]
control = config["control"]
step_number = 0


def step(driver, name):
    global step_number
    step_number += 1
    path = os.path.join(shots, f"{step_number:02d}-{name}.png")
    driver.save_screenshot(path)
    log(f"STEP {step_number} {name}: {path}")


def row(driver, host):
    found = driver.find_elements(By.CSS_SELECTOR, f'#hosts-table .row[data-host="{host}"]')
    return found[0] if found else None


def cell(driver, host, column):
    return driver.find_element(By.CSS_SELECTOR, f'#hosts-table .row[data-host="{host}"] [data-column="{column}"]').text


def sign_in(driver, token):
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()


def run_job(driver, job):
    form = driver.find_element(By.CSS_SELECTOR, "#jobs form")
    host = form.find_element(By.NAME, "host")
    host.clear()
    host.send_keys(job["host"])
    driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", host)
    wait_until(driver, f"action {job['action']} is offered", lambda d: job["action"] in d.execute_script(
        "return [...document.querySelectorAll('#jobs select[name=action] option')].map((o) => o.value)"))
    Select(form.find_element(By.NAME, "action")).select_by_value(job["action"])
    for name, value in job.get("params", {}).items():
        field = form.find_element(By.NAME, f"param.{name}")
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.send_keys(value)
    form.find_element(By.NAME, "run").click()
    wait_until(driver, "the job panel shows the new job", lambda d: job["action"] in d.find_element(By.CSS_SELECTOR, "[data-job-title]").text)


def job_state(driver):
    return driver.find_element(By.CSS_SELECTOR, "[data-job-state]").text


def main():
    driver = start_browser(tempfile.mkdtemp(prefix="dashboard-profile-"), config.get("serverKeyPin"))
    try:
        driver.get(config["url"])
        wait_until(driver, "the sign-in form shows", lambda d: d.find_element(By.ID, "token").is_displayed())

        sign_in(driver, "dct_wrong_" + "0" * 20)
        wait_until(driver, "a wrong token is refused", lambda d: "refused" in d.find_element(By.ID, "sign-in-error").text)
        assert not driver.find_element(By.ID, "app").is_displayed(), "the app shows after a refused token"
        assert driver.execute_script("return sessionStorage.length") == 0, "a refused token stays in sessionStorage"
        step(driver, "wrong-token-refused")

        sign_in(driver, config["token"])
        hosts = config["hosts"]
        wait_until(driver, f"hosts {hosts} are listed online", lambda d: all(
            row(d, h) is not None and cell(d, h, "online") == "online" for h in hosts))
        assert config["token"] not in driver.current_url, "the token is in the URL"
        step(driver, "signed-in-both-hosts")

        watched = hosts[0]
        before = cell(driver, watched, "lastReportAt"), cell(driver, watched, "cpu")
        wait_until(driver, f"a report changes {watched}'s row", lambda d: (cell(d, watched, "lastReportAt"), cell(d, watched, "cpu")) != before)
        wait_until(driver, "cluster counts show", lambda d: d.find_element(By.CSS_SELECTOR, "[data-stat=agentsOnline]").text == str(len(hosts)))
        step(driver, "report-changed-table")

        row(driver, watched).find_element(By.CSS_SELECTOR, "button").click()
        wait_until(driver, "the host view shows host-info", lambda d: "Kernel" in d.find_element(By.CSS_SELECTOR, "#host-view [data-facts]").text
                   and d.find_element(By.CSS_SELECTOR, "#host-view [data-facts] dd:nth-of-type(3)").text != "–")
        timer = config["timer"]
        wait_until(driver, f"the host view lists the timer {timer} from the agent", lambda d: "echo" in d.find_element(
            By.CSS_SELECTOR, f"#host-view [data-timers] tr[data-timer='{timer}']").text)
        step(driver, "host-view")

        job = config["job"]
        run_job(driver, job)
        wait_until(driver, "the job's output arrives", lambda d: job["expectOutput"] in d.find_element(By.CSS_SELECTOR, "[data-output]").text)
        wait_until(driver, "the job finishes", lambda d: job_state(d) == "done", timeout=30)
        exit_text = driver.find_element(By.CSS_SELECTOR, "[data-job-exit]").text
        assert exit_text == "exit 0", f"exit status shown as '{exit_text}'"
        assert driver.find_element(By.CSS_SELECTOR, "[data-job-duration]").text, "no duration shown"
        driver.execute_script("document.querySelector('#jobs').scrollIntoView()")
        step(driver, "job-output-and-exit")

        long_job = config["longJob"]
        run_job(driver, long_job)
        wait_until(driver, "the long job runs", lambda d: job_state(d) == "running")

        driver.execute_script("window.scrollTo(0, 0)")
        await_test(control, "gateway-down")
        wait_until(driver, "the page says it is reconnecting", lambda d: d.find_element(By.ID, "reconnecting").is_displayed())
        step(driver, "reconnecting")
        await_test(control, "gateway-up")
        wait_until(driver, "the page is live again, every host back online", lambda d: d.find_element(By.ID, "connection-state").text == "live"
                   and all(row(d, h) is not None and cell(d, h, "online") == "online" for h in hosts), timeout=60)
        step(driver, "reconnected")

        # The running job was watched again after the reconnect: its end still reaches the page.
        driver.find_element(By.CSS_SELECTOR, "[data-cancel]").click()
        wait_until(driver, "the long job is cancelled", lambda d: job_state(d) == "cancelled")
        wait_until(driver, "the recent jobs list both jobs", lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-recent] tbody tr[data-job]")) >= 2)
        driver.execute_script("document.querySelector('#jobs').scrollIntoView()")
        step(driver, "job-cancelled")

        driver.execute_script("window.scrollTo(0, 0)")
        driver.find_element(By.ID, "host-filter").send_keys(hosts[1])
        wait_until(driver, "the filter hides the other host", lambda d: not row(d, hosts[0]).is_displayed() and row(d, hosts[1]).is_displayed())
        step(driver, "filtered")
        driver.find_element(By.ID, "host-filter").clear()
        driver.execute_script("document.getElementById('host-filter').dispatchEvent(new Event('input'))")
        driver.find_element(By.CSS_SELECTOR, "#hosts-table [data-sort=host]").click()
        wait_until(driver, "sorting by name, descending, puts the last host first", lambda d: d.execute_script(
            "return [...document.querySelectorAll('#hosts-table .row')].filter((r) => !r.hidden).map((r) => r.dataset.host)") == sorted(hosts, reverse=True))
        driver.find_element(By.CSS_SELECTOR, "#hosts-table [data-sort=host]").click()

        driver.refresh()
        wait_until(driver, "a reload keeps the tab signed in", lambda d: d.find_element(By.ID, "connection-state").text == "live" and row(d, hosts[0]) is not None)

        gone = config["offlineHost"]
        await_test(control, "kill-agent")
        wait_until(driver, f"{gone} shows offline", lambda d: cell(d, gone, "online") == "offline", timeout=45)
        wait_until(driver, "the agents online count follows", lambda d: d.find_element(By.CSS_SELECTOR, "[data-stat=agentsOnline]").text == str(len(hosts) - 1))
        step(driver, "host-offline")

        for job_row in driver.find_elements(By.CSS_SELECTOR, "[data-recent] tbody tr[data-job]"):
            if job_row.find_elements(By.TAG_NAME, "td")[2].text == job["action"]:
                job_row.find_element(By.TAG_NAME, "button").click()
        wait_until(driver, "a finished job's output shows again when picked from the recent jobs",
                   lambda d: job["expectOutput"] in d.find_element(By.CSS_SELECTOR, "[data-output]").text)
        row(driver, watched).find_element(By.CSS_SELECTOR, "button").click()
        wait_until(driver, "the host view shows host-info again", lambda d: d.find_element(By.CSS_SELECTOR, "#host-view [data-facts] dd:nth-of-type(3)").text != "–")
        driver.set_window_size(1400, 1160)
        driver.execute_script("window.scrollTo(0, 0)")
        step(driver, "overview")

        logged = "\n".join(entry["message"] for entry in driver.get_log("browser"))
        assert config["token"] not in logged, "the token appears in the browser console"
        log(f"PASSED {step_number} steps")
    except BaseException:
        try:
            step(driver, "failure")
            log("browser console:\n" + "\n".join(entry["message"] for entry in driver.get_log("browser")))
        finally:
            raise
    finally:
        driver.quit()


main()
