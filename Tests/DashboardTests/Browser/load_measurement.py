"""Measures the dashboard's table at fleet size in headless Chromium: signs in, waits until every
simulated host is listed, then for a fixed window counts the table's batched updates (one per
animation frame), the rows they touched and the time they took, the page's long tasks (> 50 ms), and
how busy the page's main thread was (script, layout) by Chromium's own performance metrics.

Usage: load_measurement.py CONFIG_JSON (url, token, hostCount, seconds, screenshot)."""

import json
import sys
import tempfile
import time

from selenium.webdriver.common.by import By

from browser import log, start_browser, wait_until

config = json.loads(sys.argv[1])


def main_thread(driver):
    """Chromium's cumulative main-thread times, in seconds."""
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    return {name: metrics[name] for name in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")}


def main():
    driver = start_browser(tempfile.mkdtemp(prefix="dashboard-profile-"), config.get("serverKeyPin"))
    try:
        driver.get(config["url"])
        wait_until(driver, "the sign-in form shows", lambda d: d.find_element(By.ID, "token").is_displayed())
        driver.find_element(By.ID, "token").send_keys(config["token"])
        driver.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()
        count = config["hostCount"]
        wait_until(driver, f"{count} hosts are listed", lambda d: d.execute_script(
            "return document.querySelectorAll('#hosts-table .row').length") >= count, timeout=90)
        driver.execute_cdp_cmd("Performance.enable", {})
        before = main_thread(driver)
        driver.execute_script("""
            const m = window.dashboardMetrics;
            m.flushes = 0; m.rowsUpdated = 0; m.totalMs = 0; m.maxMs = 0;
            window.longTasks = [];
            new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration)))
                .observe({ type: "longtask" });
        """)
        time.sleep(config["seconds"])  # the measurement window itself, not a synchronisation
        metrics = driver.execute_script("return { ...window.dashboardMetrics, longTasks: window.longTasks }")
        busy = {name: value - before[name] for name, value in main_thread(driver).items()}
        driver.save_screenshot(config["screenshot"])
        flushes = metrics["flushes"]
        assert flushes > 0, f"no table update in {config['seconds']} s with {count} hosts reporting"
        rows = metrics["rowsUpdated"]
        long_tasks = metrics["longTasks"]
        log(f"MEASURED hosts={count} window={config['seconds']}s table_updates={flushes} rows_updated={rows} "
            f"mean_ms_per_update={metrics['totalMs'] / flushes:.3f} max_ms_per_update={metrics['maxMs']:.3f} "
            f"mean_us_per_row={1000 * metrics['totalMs'] / max(rows, 1):.1f} long_tasks={len(long_tasks)} "
            f"longest_task_ms={max(long_tasks, default=0):.0f} main_thread_busy={100 * busy['TaskDuration'] / config['seconds']:.0f}% "
            f"script_s={busy['ScriptDuration']:.2f} layout_s={busy['LayoutDuration']:.2f} style_s={busy['RecalcStyleDuration']:.2f}")
    finally:
        driver.quit()


main()
