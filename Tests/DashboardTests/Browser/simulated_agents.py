"""Plays many host agents over the DataCenter envelope, for measuring the dashboard at fleet size:
each connection signs in with auth.agent, reports host-info and its VPS once, then CPU and bandwidth
every period (with jitter), and answers the central side's job requests with a short made-up run.
Bounded: it stops by itself after --seconds.

Usage: simulated_agents.py --url ws://127.0.0.1:PORT/ --tokens TOKENS_JSON --seconds 60 [--period 2]
TOKENS_JSON maps each host name to its agent token. To make them first (faster than a thousand runs of
`datacentered token issue`): simulated_agents.py --issue 1000 --tokens TOKENS_JSON --token-file FILE
adds an agent token per host to the workers' token file (its format: SHA-256 hashes only)."""

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import random
import sys
import time

import websockets

ACTIONS = [
    {"name": "echo", "description": "Print a text", "params": [{"name": "text", "type": "string", "required": True}]},
    {"name": "sleep", "description": "Wait", "params": [{"name": "seconds", "type": "int", "required": True}]},
]


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class SimulatedAgent:
    def __init__(self, host, token, period):
        self.host, self.token, self.period = host, token, period
        self.next_id = 0
        self.cpu = random.uniform(5, 60)

    def request(self, op, data):
        self.next_id += 1
        return json.dumps({"v": 1, "id": f"{self.host}-{self.next_id}", "op": op, "data": data})

    @staticmethod
    def event(name, data):
        return json.dumps({"v": 1, "ev": name, "data": data})

    async def run(self, url, opening, connected, deadline):
        async with opening:  # bounds how many connections are being opened at once
            ws = await websockets.connect(url, max_queue=None, open_timeout=30)
            await ws.send(self.request("auth.agent", {"host": self.host, "token": self.token, "agentVersion": "simulated", "actions": ACTIONS}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if not reply.get("ok"):
                await ws.close()
                raise RuntimeError(f"{self.host}: auth.agent refused: {reply}")
        connected()
        async with ws:
            vps = [{"name": f"{self.host}-vps{i}", "state": "running", "technology": "lxc", "ips": [f"10.{i}.0.1"]} for i in range(3)]
            await ws.send(self.event("report.hostInfo", {
                "hostname": self.host, "os": "Debian GNU/Linux 12", "kernel": "6.1.0-simulated", "cpuModel": "Simulated CPU",
                "cpuCount": 8, "memoryTotal": 32 << 30, "memoryAvailable": random.randint(4, 28) << 30,
                "disks": [{"mount": "/", "total": 500 << 30, "free": 200 << 30}], "uptimeSeconds": 3600.0,
                "load": [1.0, 0.8, 0.5], "ioWaitPercent": 0.5}))
            await ws.send(self.event("report.vps", {"vps": vps, "ipMap": {v["ips"][0]: v["name"] for v in vps}}))
            reader = asyncio.create_task(self.answer(ws))
            try:
                await asyncio.sleep(random.uniform(0, self.period))
                while time.monotonic() < deadline:
                    self.cpu = min(100.0, max(0.0, self.cpu + random.uniform(-8, 8)))
                    await ws.send(self.event("report.cpu", {"total": round(self.cpu, 1), "cores": []}))
                    rate = random.uniform(1e5, 1e7)
                    await ws.send(self.event("report.bandwidth", {"interfaces": [
                        {"name": "eth0", "rxBytes": 0, "txBytes": 0, "rxRate": rate, "txRate": rate / 4}], "vps": []}))
                    await asyncio.sleep(self.period * random.uniform(0.8, 1.2))
            finally:
                reader.cancel()

    async def answer(self, ws):
        async for text in ws:
            message = json.loads(text)
            op, data = message.get("op"), message.get("data") or {}
            if not op:
                continue
            reply = {"v": 1, "re": message["id"], "ok": True, "data": {}}
            if op == "job.start":
                reply["data"] = {"state": "running"}
                if data.get("action") != "sleep":  # a sleep runs until it is cancelled
                    asyncio.create_task(self.finish(ws, data["job"], data.get("params") or {}))
            elif op == "job.cancel":
                reply["data"] = {"state": "cancelled"}
                await ws.send(self.request("job.finished", {"job": data["job"], "state": "cancelled", "signal": 15, "durationMs": 10}))
            elif op == "jobs.running":
                reply["data"] = {"jobs": []}
            await ws.send(json.dumps(reply))

    async def finish(self, ws, job, params):
        text = params.get("text", f"simulated run on {self.host}")
        await ws.send(self.request("job.output", {"job": job, "seq": 0, "stream": "stdout", "data": f"{text}\n"}))
        await ws.send(self.request("job.finished", {"job": job, "state": "done", "exitCode": 0, "durationMs": 5}))


def issue(count, tokens_path, token_file):
    tokens = {f"sim-{i:04d}": "dct_" + secrets.token_hex(32) for i in range(count)}
    entries = []
    if os.path.exists(token_file):
        with open(token_file) as file:
            entries = json.load(file)["tokens"]
    entries += [{"name": host, "role": "agent", "sha256": hashlib.sha256(token.encode()).hexdigest()} for host, token in tokens.items()]
    with open(token_file, "w") as file:
        json.dump({"tokens": entries}, file)
    os.chmod(token_file, 0o600)
    with open(tokens_path, "w") as file:
        json.dump(tokens, file)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--period", type=float, default=2.0)
    parser.add_argument("--issue", type=int)
    parser.add_argument("--token-file")
    arguments = parser.parse_args()
    if arguments.issue:
        issue(arguments.issue, arguments.tokens, arguments.token_file)
        return
    with open(arguments.tokens) as file:
        tokens = json.load(file)
    deadline = time.monotonic() + arguments.seconds
    count = 0

    def connected():
        nonlocal count
        count += 1
        if count == len(tokens):
            print(f"AGENTS CONNECTED {count}", flush=True)

    agents = [SimulatedAgent(host, token, arguments.period) for host, token in tokens.items()]
    opening = asyncio.Semaphore(50)
    results = await asyncio.gather(*(agent.run(arguments.url, opening, connected, deadline) for agent in agents), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    for failure in failures[:5]:
        print(f"agent failed: {failure!r}", file=sys.stderr)
    print(f"AGENTS DONE {len(agents) - len(failures)} of {len(agents)}", flush=True)
    sys.exit(1 if failures else 0)


asyncio.run(main())
