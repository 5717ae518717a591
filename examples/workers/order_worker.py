#!/usr/bin/env python3
"""A Weft worker for the order process (examples/order-worker.json), standard library only.

It long-polls the `orders` task queue, runs the activity the task names, heartbeats while it
works, and reports the result. Run several copies to share the work: each task goes to one.

    WEFT_URL=http://127.0.0.1:8080 python3 examples/workers/order_worker.py

Environment: WEFT_URL (default http://127.0.0.1:8080), WEFT_API_TOKEN (if the server needs
one), WEFT_QUEUE (default `orders`).
"""

import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request

SERVER = os.environ.get("WEFT_URL", "http://127.0.0.1:8080").rstrip("/")
TOKEN = os.environ.get("WEFT_API_TOKEN")
QUEUE = os.environ.get("WEFT_QUEUE", "orders")


def call(path, body, timeout=40):
    """POSTs JSON to the Weft API; returns (status, parsed body or None)."""
    req = urllib.request.Request(SERVER + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if TOKEN:
        req.add_header("Authorization", "Bearer " + TOKEN)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


# The activities. Each takes the task's rendered `input` and returns its output (any JSON).
# Raise RetryableError for a failure worth retrying, any other exception to fail for good.

class RetryableError(Exception):
    pass


def charge_card(inp):
    return {"charge_id": "ch_" + str(inp["order"]), "amount": inp.get("amount")}


def fulfill_order(inp):
    time.sleep(0.05)  # pretend to pack the parcel
    return {"tracking": "TRK-" + str(inp["order"])}


def send_confirmation(inp):
    return {"sent_to": "customer of " + str(inp["order"])}


def update_inventory(inp):
    return {"reserved": True}


def refund(inp):
    return {"refunded": inp["order"]}


ACTIVITIES = {
    "chargeCard": charge_card,
    "fulfillOrder": fulfill_order,
    "sendConfirmation": send_confirmation,
    "updateInventory": update_inventory,
    "refund": refund,
}


def heartbeat_while(token, done):
    """Tells Weft we are alive every 2 s until `done` is set (or the task is lost)."""
    while not done.wait(2):
        status, _ = call("/api/tasks/%s/heartbeat" % token, {})
        if status == 409:  # timed out or cancelled: Weft has given the task to someone else
            return


def work(task):
    token = task["task_token"]
    done = threading.Event()
    threading.Thread(target=heartbeat_while, args=(token, done), daemon=True).start()
    try:
        activity = ACTIVITIES.get(task["activity"])
        if activity is None:
            raise ValueError("unknown activity " + task["activity"])
        output = activity(task["input"])
        status, body = call("/api/tasks/%s/complete" % token, {"output": output})
    except RetryableError as e:
        status, body = call("/api/tasks/%s/fail" % token, {"error": str(e), "retryable": True})
    except Exception as e:  # noqa: BLE001 - any other failure is final
        status, body = call("/api/tasks/%s/fail" % token, {"error": repr(e), "retryable": False})
    finally:
        done.set()
    if status == 409:
        print("task %s was no longer ours: %s" % (token, body), flush=True)
    else:
        print("%s %s (attempt %s) -> %s" % (task["activity"], task["run_id"], task["attempt"], status), flush=True)


def main():
    print("worker polling queue %r at %s" % (QUEUE, SERVER), flush=True)
    while True:
        try:
            status, task = call("/api/queues/%s/poll" % QUEUE, {"wait": "30s"})
        except OSError as e:  # server restarting: back off a little, then poll again
            print("poll failed: %s" % e, file=sys.stderr, flush=True)
            time.sleep(1 + random.random())
            continue
        if status == 200:
            work(task)
        elif status != 204:
            print("poll answered %s: %s" % (status, task), file=sys.stderr, flush=True)
            time.sleep(1)


if __name__ == "__main__":
    main()
