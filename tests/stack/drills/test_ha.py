"""Drills on the monitoring pair (molecule/aws): an Alertmanager stopped, a Prometheus replica stopped for two minutes,
the bucket's history, and the bucket out of reach. They run after the cluster drills, so the replicas have cut,
uploaded and (with the scenario's short retention) dropped their first blocks by then."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from collections import Counter
from functools import reduce

import boto3
import pytest
from botocore.config import Config

from conftest import note_figure, wait_for, webhook_alerts, webhook_notifications
from test_cluster_drills import on_host

# The oracle fleet dashboard's first panels, which must have no gap while a replica is down.
FLEET_QUERIES = ('sum(up{job="masa-oracle"})',
                 'max(sum by (shard) (prometheus_sd_discovered_targets{config="masa-oracle", name="scrape"}))',
                 'sum(up{job="node-exporter"})')
# A block's directory is its ULID, whose first ten characters are the milliseconds of its cut in this base 32.
ULID_DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@pytest.fixture(scope="module")
def replicas(stack) -> list:
    monitors = stack.group("monitoring")
    assert len(monitors) == 2, f"the drills need a pair of monitoring hosts, not {monitors}"
    return monitors


def notifications_since(started: float) -> list:
    """Each notification's content since ``started``: its group and the state of each alert in it."""
    return [(n["payload"]["groupKey"],
             tuple(sorted((a["fingerprint"], a["status"], a["startsAt"]) for a in n["payload"]["alerts"])))
            for n in webhook_notifications() if n["received_at"] >= started]


def fault_services(stack) -> list:
    """(host, container) pairs whose stop raises alerts of different names and nodes."""
    server = stack.group("consul_servers")[-1]
    return [(host, stack.container(host, "oracle-node")) for host in stack.oracle_nodes] + \
           [(server, stack.container(server, "node-exporter"))]


def wait_for_the_whole_fleet(stack, replicas) -> None:
    """Every oracle and every node-exporter scraped up by every replica: a drill starts from a whole fleet."""
    expected = {"masa-oracle": len(stack.oracle_nodes), "node-exporter": len(stack.all_hosts)}

    def whole() -> bool:
        return all(sum(float(sample["value"][1]) for sample in stack.prometheus(
            "/api/v1/query?" + urllib.parse.urlencode({"query": f'up{{job="{job}"}} == 1'}), host=replica)["data"]["result"])
            == count for job, count in expected.items() for replica in replicas)
    wait_for("every target up on every replica", whole, 120, interval=1)


def test_with_an_alertmanager_down_each_alert_is_notified_once(stack, replicas):
    wait_for_the_whole_fleet(stack, replicas)
    status = stack.get(f"https://{stack.address(replicas[0])}:{stack.record(replicas[0], 'alertmanager')['port']}"
                       "/api/v2/status")
    assert len(status["cluster"]["peers"]) == 2, status["cluster"]
    assert status["cluster"]["status"] == "ready", status["cluster"]
    stopped = replicas[0]
    on_host(stopped, "docker", "stop", stack.container(stopped, "alertmanager"))
    started = time.time()
    faults = fault_services(stack)
    try:
        for host, container in faults:
            on_host(host, "docker", "stop", container)

        def firing_alerts() -> set:
            return {(a["labels"]["alertname"], a["labels"].get("node")) for received, a in webhook_alerts()
                    if received >= started and a["status"] == "firing" and a["labels"]["alertname"] != "Watchdog"}
        fired = wait_for("firing notifications for every stopped service", firing_alerts, 120,
                         until=lambda alerts: {alert[1] for alert in alerts} >= {fault[0] for fault in faults})
        # Long enough for a second Alertmanager's copy to arrive: peer timeout (15 s) plus group interval.
        time.sleep(30)
    finally:
        for host, container in faults:
            on_host(host, "docker", "start", container)
        on_host(stopped, "docker", "start", stack.container(stopped, "alertmanager"))
    sent = [entry for entry in notifications_since(started) if "Watchdog" not in entry[0]]
    duplicates = {entry: count for entry, count in Counter(sent).items() if count > 1}
    note_figure(f"drill: Alertmanager on {stopped} stopped: {len(fired)} alerts {sorted(fired)} in "
                f"{len(sent)} notifications, {len(duplicates)} duplicated")
    assert len(fired) >= 3, fired
    assert not duplicates, duplicates
    wait_for("the Alertmanager pair to gossip again", lambda: len(stack.get(
        f"https://{stack.address(stopped)}:{stack.record(stopped, 'alertmanager')['port']}/api/v2/status"
    )["cluster"]["peers"]) == 2, 60)


def range_query(stack, promql: str, start: float, end: float) -> list:
    query = urllib.parse.urlencode({"query": promql, "start": start, "end": end, "step": "5s"})
    return stack.thanos_query(f"/api/v1/query_range?{query}")["data"]["result"]


def test_with_a_replica_down_for_two_minutes_query_has_no_gap_and_a_dead_node_pages(stack, replicas):
    stopped = replicas[1]
    victim = stack.oracle_nodes[-1]
    wait_for_the_whole_fleet(stack, replicas)
    on_host(stopped, "docker", "stop", stack.container(stopped, "prometheus"))
    down_from = time.time()
    try:
        time.sleep(30)
        killed_at = time.time()
        on_host(victim, "docker", "stop", stack.container(victim, "oracle-node"))
        try:
            paged = wait_for(f"a page about {victim} with one replica down", lambda: [
                a for received, a in webhook_alerts()
                if received >= killed_at and a["status"] == "firing" and a["labels"].get("node") == victim], 60)
            note_figure(f"drill: replica {stopped} down, oracle on {victim} stopped: "
                        f"{sorted({a['labels']['alertname'] for a in paged})} after {time.time() - killed_at:.1f} s")
        finally:
            on_host(victim, "docker", "start", stack.container(victim, "oracle-node"))
        time.sleep(max(0.0, down_from + 120 - time.time()))
    finally:
        on_host(stopped, "docker", "start", stack.container(stopped, "prometheus"))
    up_again = time.time()
    wait_for(f"the replica on {stopped} to answer", lambda: stack.prometheus("/api/v1/status/buildinfo", host=stopped), 60)

    # From the stop to past the restart; the query waits until the window is over, so every step can have a sample.
    window = (down_from, up_again + 10)
    time.sleep(max(0.0, window[1] + 1 - time.time()))
    steps = [window[0] + 5 * step for step in range(int((window[1] - window[0]) // 5) + 1)]
    for promql in FLEET_QUERIES:
        series = range_query(stack, promql, *window)
        assert len(series) == 1, (promql, series)
        answered = {round(float(sample[0])) for sample in series[0]["values"]}
        missing = [f"{moment - down_from:+.0f} s" for moment in steps if round(moment) not in answered]
        note_figure(f"drill: Thanos Query over the {window[1] - window[0]:.0f} s from a replica's stop to past its restart: "
                    f"{promql} answers {len(steps) - len(missing)} of {len(steps)} steps; missing at {missing or 'none'}")
        assert not missing, (promql, f"no answer {len(missing)} of {len(steps)} steps, at {missing} from the stop")


def bucket_blocks(replicas) -> dict:
    """replica -> the metas of its blocks in the bucket."""
    s3 = boto3.client("s3", endpoint_url=os.environ["MASA_S3_ENDPOINT"], aws_access_key_id="moto-access-key",
                      aws_secret_access_key="moto-secret-key", region_name="eu-west-1",
                      config=Config(s3={"addressing_style": "path"}))
    bucket, prefix = os.environ["MASA_S3_BUCKET"], os.environ["MASA_S3_PREFIX"]
    blocks = {replica: [] for replica in replicas}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/meta.json"):
                meta = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                blocks.setdefault(meta["thanos"]["labels"].get("replica"), []).append(meta)
    return blocks


def test_blocks_reach_the_bucket_and_history_comes_from_the_store_gateway(stack, replicas):
    blocks = wait_for("a block of each replica in the bucket", lambda: bucket_blocks(replicas), 180, interval=5,
                      until=lambda found: all(found[replica] for replica in replicas))
    oldest = min(meta["minTime"] for metas in blocks.values() for meta in metas) / 1000
    moment = oldest + 30
    promql = 'count_over_time(up{job="prometheus"}[30s])'

    def replicas_forgot() -> bool:
        return all(not stack.prometheus("/api/v1/query?" + urllib.parse.urlencode({"query": promql, "time": moment}),
                                        host=replica)["data"]["result"] for replica in replicas)
    wait_for("the replicas' retention to drop the oldest block's time", replicas_forgot, 300, interval=5)
    answer = stack.thanos_query("/api/v1/query?" + urllib.parse.urlencode({"query": promql, "time": moment}))
    note_figure(f"drill: bucket holds {sum(map(len, blocks.values()))} blocks; at {time.time() - moment:.0f} s ago, "
                f"past the replicas' retention, Thanos Query answers {len(answer['data']['result'])} series")
    assert {series["metric"].get("node") for series in answer["data"]["result"]} == set(replicas), answer


def cut_at(ulid: str) -> float:
    return reduce(lambda milliseconds, digit: milliseconds * 32 + ULID_DIGITS.index(digit), ulid[:10], 0) / 1000


def local_blocks(stack, replica) -> set:
    """The blocks a replica's Prometheus holds, by ULID."""
    listing = on_host(replica, "docker", "exec", stack.container(replica, "prometheus"), "ls", "/prometheus")
    return {name for name in listing.split() if len(name) == 26 and set(name) <= set(ULID_DIGITS)}


def uploaded(replicas) -> set:
    return {meta["ulid"] for metas in bucket_blocks(replicas).values() for meta in metas}


def test_with_the_bucket_out_of_reach_scraping_goes_on_uploads_page_and_resume(stack, replicas):
    wait_for_the_whole_fleet(stack, replicas)
    network, store = os.environ["MASA_S3_NETWORK"], os.environ["MASA_S3_CONTAINER"]
    address = urllib.parse.urlparse(os.environ["MASA_S3_ENDPOINT"]).hostname
    subprocess.run(["docker", "network", "disconnect", network, store], check=True, timeout=60)
    cut_off = time.time()
    try:
        paged = wait_for("ThanosUploadsFailing to page for each replica", lambda: {
            a["labels"].get("node") for received, a in webhook_alerts()
            if received >= cut_off and a["status"] == "firing" and a["labels"]["alertname"] == "ThanosUploadsFailing"},
            300, interval=2, until=lambda nodes: nodes >= set(replicas))
        paged_after = time.time() - cut_off
        stranded = wait_for("a block cut on each replica since the bucket went away", lambda: {
            replica: {block for block in local_blocks(stack, replica) if cut_at(block) >= cut_off} for replica in replicas},
            120, interval=5, until=lambda found: all(found.values()))
        wait_for_the_whole_fleet(stack, replicas)
    finally:
        subprocess.run(["docker", "network", "connect", "--ip", address, network, store], check=True, timeout=60)
    away = time.time() - cut_off
    pending = set().union(*stranded.values())
    # The scenario keeps three minutes of blocks; a block the replica has dropped before the sidecar's next try is
    # the retention's doing (days outside this scenario), and is counted apart.
    settled = wait_for("every stranded block in the bucket, or dropped by the scenario's short retention", lambda: (
        pending & uploaded(replicas), pending - set().union(*(local_blocks(stack, replica) for replica in replicas))),
        120, interval=5, until=lambda found: found[0] | found[1] == pending)
    note_figure(f"drill: bucket out of reach for {away:.0f} s: ThanosUploadsFailing paged for {sorted(paged)} after "
                f"{paged_after:.1f} s; every target stayed up on both replicas; of {len(pending)} blocks cut meanwhile, "
                f"{len(settled[0])} reached the bucket when it came back, {len(settled[1] - settled[0])} were dropped "
                "by retention first")
    assert all(blocks & settled[0] for blocks in stranded.values()), (stranded, settled)
