"""A synthetic but realistic knowledge base for scale tests: varied runbooks and postmortems, not copies.

    python -m bench.corpus OUT_DIR --files 1000 [--seed 7]

Every file is assembled from a service (one of ~400 names), a failure mode (22, each with its own symptoms,
causes, checks and fixes), and randomly chosen sentences, commands, thresholds, dashboards and people, so no two
files share their text. Runbooks have 4-9 sections like the shared corpus's (summary, impact, diagnosis,
mitigation, ...); about one file in eight is a postmortem (incidents/). About 6 stored pieces per file.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

DOMAINS = [
    "checkout",
    "payments",
    "orders",
    "search",
    "auth",
    "inventory",
    "billing",
    "notifications",
    "catalog",
]
DOMAINS += [
    "shipping",
    "pricing",
    "reviews",
    "accounts",
    "ledger",
    "fraud",
    "media",
    "ads",
    "recommendations",
]
DOMAINS += ["gateway", "identity", "reporting", "export", "import", "scheduler", "webhooks", "mobile-bff"]
ROLES = [
    "api",
    "worker",
    "consumer",
    "db",
    "cache",
    "cron",
    "frontend",
    "gateway",
    "indexer",
    "sync",
    "proxy",
]
ROLES += ["replica", "scheduler", "batch", "stream"]
TEAMS = [
    "platform",
    "sre",
    "payments-eng",
    "core-data",
    "growth",
    "identity",
    "storefront",
    "infra",
    "search-eng",
]
PEOPLE = [
    "alice",
    "bob",
    "carol",
    "dan",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
]
REGIONS = ["eu-west-1", "us-east-1", "us-west-2", "ap-southeast-1", "eu-central-1"]
DASHBOARDS = ["Service overview", "Golden signals", "Saturation", "Dependencies", "Kubernetes workloads"]


@dataclass(frozen=True)
class Failure:
    name: str
    alert: str
    symptoms: tuple[str, ...]
    causes: tuple[str, ...]
    checks: tuple[str, ...]
    fixes: tuple[str, ...]


FAILURES = [
    Failure(
        "high latency",
        "{Svc}HighLatency",
        ("p99 latency above {n}00 ms for {m} minutes", "requests queue up and clients time out"),
        (
            "a slow downstream dependency",
            "lock contention after the last deploy",
            "too few replicas for the load",
        ),
        (
            "kubectl top pods -n {ns} -l app={svc}",
            "curl -s http://{svc}.{ns}:8080/metrics | grep request_duration",
        ),
        ("scale out: kubectl scale deploy/{svc} -n {ns} --replicas={r}", "roll back the last deploy"),
    ),
    Failure(
        "error rate",
        "{Svc}HighErrorRate",
        ("5xx responses above {n}% of traffic", "clients see HTTP 502 and 503 from the load balancer"),
        ("a bad release", "an expired credential for a dependency", "a misrouted ingress rule"),
        (
            "kubectl logs -n {ns} deploy/{svc} --since=15m | grep -i error",
            "kubectl rollout history deploy/{svc} -n {ns}",
        ),
        (
            "kubectl rollout undo deploy/{svc} -n {ns}",
            "disable the feature flag that shipped with the release",
        ),
    ),
    Failure(
        "crash loop",
        "{Svc}PodCrashLooping",
        (
            "pods restart every few minutes with CrashLoopBackOff",
            "readiness never turns green after a deploy",
        ),
        (
            "a missing environment variable",
            "an OOM kill at start-up",
            "a failing migration in the init container",
        ),
        ("kubectl describe pod -n {ns} -l app={svc}", "kubectl logs -n {ns} -l app={svc} --previous"),
        ("fix the config map and restart the rollout", "raise the memory limit to {m}00Mi"),
    ),
    Failure(
        "memory leak",
        "{Svc}MemoryGrowing",
        (
            "resident memory grows {n}% an hour until the pod is OOMKilled",
            "garbage collection pauses get longer",
        ),
        ("an unbounded in-process cache", "leaked connections in the client pool", "a goroutine leak"),
        ("kubectl top pod -n {ns} --containers", "take a heap profile from /debug/pprof/heap"),
        ("restart the pods one at a time", "cap the cache at {m}0k entries and redeploy"),
    ),
    Failure(
        "disk full",
        "{Svc}DiskAlmostFull",
        ("the data volume is above {n}0% used", "writes fail with ENOSPC"),
        ("log files not rotated", "a forgotten debug dump", "retention set too long"),
        ("df -h /var/lib/{svc}", "du -sh /var/lib/{svc}/* | sort -h | tail"),
        ("delete old segments older than {m} days", "grow the volume by {r}0 GiB"),
    ),
    Failure(
        "connection pool exhausted",
        "{Svc}DatabaseConnectionsExhausted",
        ("too many clients errors in the logs", "requests wait for a database connection"),
        ("a deploy that doubled the pool size per pod", "long transactions holding connections", "a leak"),
        ("psql -c 'select count(*) from pg_stat_activity'", "check pgbouncer SHOW POOLS"),
        ("restart pgbouncer", "lower the pool size per pod to {r}", "kill idle in transaction sessions"),
    ),
    Failure(
        "replication lag",
        "{Svc}ReplicationLagHigh",
        ("the replica is {n}00 seconds behind the primary", "reads return stale data"),
        ("a long running analytics query", "network throttling between zones", "vacuum on a big table"),
        ("select now() - pg_last_xact_replay_timestamp()", "check the replica's IO wait"),
        ("cancel the long query", "move reads to the primary until the replica catches up"),
    ),
    Failure(
        "consumer lag",
        "{Svc}KafkaConsumerLag",
        ("consumer group lag above {n}0k messages", "events arrive minutes late downstream"),
        ("a poison message", "too few partitions for the consumers", "a slow handler after the last change"),
        ("kafka-consumer-groups --describe --group {svc}", "look for the same offset repeating in the logs"),
        ("skip the poison message to the dead letter topic", "add {r} consumers"),
    ),
    Failure(
        "certificate expiry",
        "{Svc}CertificateExpiringSoon",
        ("the TLS certificate expires in {n} days", "browsers warn about the certificate"),
        ("cert-manager cannot solve the ACME challenge", "a DNS record that moved", "a rate limit at the CA"),
        ("kubectl get certificate -n {ns}", "kubectl describe challenge -n {ns}"),
        ("fix the DNS record and delete the failed order", "renew it by hand with cmctl renew"),
    ),
    Failure(
        "dns failures",
        "{Svc}DNSResolutionErrors",
        ("lookups of internal names time out", "SERVFAIL in the application logs"),
        ("CoreDNS pods overloaded", "a broken upstream resolver", "ndots causing five lookups per name"),
        ("kubectl -n kube-system logs -l k8s-app=kube-dns", "dig {svc}.{ns}.svc.cluster.local"),
        ("scale CoreDNS to {r} replicas", "add NodeLocal DNSCache"),
    ),
    Failure(
        "queue backlog",
        "{Svc}QueueBacklogGrowing",
        ("the queue holds more than {n}0k messages", "jobs wait hours before they start"),
        ("workers stuck on a lock", "a downstream rate limit", "a surge after a batch import"),
        ("rabbitmqctl list_queues name messages consumers", "check worker logs for retries"),
        ("add workers", "purge the duplicate messages after checking with {team}"),
    ),
    Failure(
        "throttling",
        "{Svc}RequestsThrottled",
        ("the provider answers 429 Too Many Requests", "retries amplify the load"),
        ("a retry storm without backoff", "a quota lowered by the provider", "a new caller without a key"),
        ("grep 429 in the access log of {svc}", "check the quota dashboard in {region}"),
        ("enable exponential backoff", "ask the provider for a higher quota"),
    ),
    Failure(
        "cpu saturation",
        "{Svc}CPUThrottlingHigh",
        ("CPU throttling above {n}0% of periods", "latency spikes every minute"),
        ("limits set too low", "a hot loop in the new code", "noisy neighbours on the node"),
        ("kubectl top pod -n {ns} -l app={svc}", "container_cpu_cfs_throttled_periods_total in Prometheus"),
        ("raise the CPU limit", "spread pods with a topology constraint"),
    ),
    Failure(
        "node not ready",
        "KubeNodeNotReady",
        ("a node running {svc} is NotReady", "pods on it are evicted"),
        ("kubelet out of memory", "a full root disk", "a broken network interface"),
        ("kubectl describe node", "journalctl -u kubelet --since '30 min ago'"),
        ("cordon and drain the node", "replace the instance in {region}"),
    ),
    Failure(
        "cache misses",
        "{Svc}CacheHitRateLow",
        ("the cache hit rate dropped below {n}0%", "the database load doubled"),
        ("a key format change in the last release", "evictions because maxmemory is too small", "a flush"),
        ("redis-cli info stats | grep keyspace", "redis-cli info memory"),
        ("raise maxmemory to {m} GB", "warm the cache from the nightly snapshot"),
    ),
    Failure(
        "job failures",
        "{Svc}CronJobFailed",
        ("the nightly job failed {n} times in a row", "reports are missing this morning"),
        ("a schema change upstream", "the job hit its deadline", "credentials rotated without the job"),
        ("kubectl get jobs -n {ns} --sort-by=.status.startTime", "kubectl logs job/{svc}-nightly -n {ns}"),
        (
            "rerun it by hand: kubectl create job --from=cronjob/{svc}-nightly {svc}-manual",
            "raise the deadline",
        ),
    ),
    Failure(
        "search index stale",
        "{Svc}IndexLagging",
        ("search results are {n} hours old", "new products do not show up"),
        ("the indexer stopped after a mapping conflict", "the cluster is red", "bulk requests rejected"),
        ("curl -s localhost:9200/_cluster/health", "curl -s localhost:9200/_cat/indices?v"),
        ("fix the mapping and reindex", "add a data node"),
    ),
    Failure(
        "login failures",
        "{Svc}LoginErrors",
        ("users cannot sign in", "the SSO callback loops with 307 redirects"),
        (
            "a clock skew on the identity pods",
            "a rotated signing key not yet published",
            "cookie domain change",
        ),
        ("check the JWKS endpoint", "compare the pods' clocks with chronyc tracking"),
        ("republish the signing keys", "restart the identity pods after fixing NTP"),
    ),
    Failure(
        "payment provider outage",
        "{Svc}ProviderErrors",
        ("payments fail with provider timeouts", "the success rate dropped by {n}0%"),
        ("the provider's incident", "a TLS change at the provider", "our egress IP not allow-listed"),
        ("check the provider status page", "curl -v the provider endpoint from a pod"),
        ("fail over to the secondary provider", "queue payments for retry"),
    ),
    Failure(
        "secret rotation broke clients",
        "{Svc}AuthFailures",
        ("401 Unauthorized between services", "calls to {svc} fail right after the rotation"),
        ("clients still use the old secret", "the secret store sync is delayed", "a typo in the new secret"),
        ("kubectl get externalsecret -n {ns}", "check the age of the mounted secret"),
        ("force a resync of the external secret", "roll back to the previous secret version"),
    ),
    Failure(
        "load balancer 503",
        "{Svc}LoadBalancerNoHealthyTargets",
        ("the load balancer has no healthy targets", "every request gets a 503"),
        ("a health check path that changed", "security group rules removed", "all pods failing readiness"),
        ("aws elbv2 describe-target-health --target-group-arn ...", "kubectl get endpoints -n {ns} {svc}"),
        ("restore the health check path", "re-add the security group rule"),
    ),
    Failure(
        "object storage errors",
        "{Svc}S3Errors",
        ("uploads fail with SlowDown", "media is missing for new items"),
        ("a hot prefix", "a bucket policy change", "the VPC endpoint removed"),
        ("aws s3api get-bucket-policy --bucket {svc}-{region}", "look for 503 SlowDown in the client logs"),
        ("spread keys over more prefixes", "restore the bucket policy from git"),
    ),
]
FILLER = [
    "This happened twice last quarter; both times the first responder lost time finding the right dashboard.",
    "If you are unsure, page the owning team before changing anything in production.",
    "The {dashboard} dashboard shows the same signal per region; compare {region} with the others first.",
    "Owners: the {team} team. Escalate to {person} outside office hours.",
    "Check whether a deploy went out in the last hour; most of these alerts follow a release.",
    "Write what you tried in the incident channel, so the postmortem has a timeline.",
    "Do not restart everything at once: the warm-up traffic alone can trigger the alert again.",
    "The alert is noisy below {n} replicas; it was tuned for the production footprint.",
    "Customers notice this within minutes; update the status page if it lasts longer than {m} minutes.",
    "The runbook was last reviewed by {person} after the {region} incident.",
]


class Writer:
    """Builds one file's text from a seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def fill(self, template: str, values: dict[str, str]) -> str:
        return template.format(**values)

    def values(self, service: str) -> dict[str, str]:
        rng = self.rng
        return {
            "svc": service,
            "Svc": "".join(part.capitalize() for part in service.split("-")),
            "ns": service.split("-")[0],
            "n": str(rng.randint(2, 9)),
            "m": str(rng.randint(2, 30)),
            "r": str(rng.randint(3, 24)),
            "team": rng.choice(TEAMS),
            "person": rng.choice(PEOPLE),
            "region": rng.choice(REGIONS),
            "dashboard": rng.choice(DASHBOARDS),
        }

    def paragraph(self, sentences: list[str], values: dict[str, str], filler: int) -> str:
        chosen = sentences + self.rng.sample(FILLER, filler)
        self.rng.shuffle(chosen)
        return " ".join(self.fill(sentence, values) for sentence in chosen)

    def runbook(self, service: str, failure: Failure) -> str:
        rng, v = self.rng, self.values(service)
        lines = [f"# {self.fill(failure.alert, v)}", ""]
        symptom = rng.choice(failure.symptoms)
        lines += [
            "## Meaning",
            "",
            self.paragraph([f"The {service} service has {failure.name}: {symptom}."], v, 1),
        ]
        lines += [
            "",
            "## Impact",
            "",
            self.paragraph([f"While it lasts, {rng.choice(failure.symptoms)}."], v, 1),
        ]
        causes = rng.sample(failure.causes, rng.randint(1, len(failure.causes)))
        lines += ["", "## Diagnosis", "", "Likely causes, most common first:", ""]
        lines += [f"- {self.fill(cause, v)}" for cause in causes]
        lines += ["", "```shell", *(self.fill(c, v) for c in failure.checks), "```"]
        lines += ["", "## Mitigation", ""]
        lines += [
            f"{n}. {self.fill(fix, v)}"
            for n, fix in enumerate(rng.sample(failure.fixes, len(failure.fixes)), 1)
        ]
        for heading in rng.sample(
            ["Escalation", "Related alerts", "Background", "Verification", "Notes"], rng.randint(0, 4)
        ):
            lines += ["", f"## {heading}", "", self.paragraph([], v, rng.randint(1, 3))]
        return "\n".join(lines) + "\n"

    def postmortem(self, number: int, service: str, failure: Failure) -> str:
        rng, v = self.rng, self.values(service)
        start = rng.randint(0, 22)
        cause = self.fill(rng.choice(failure.causes), v)
        lines = [f"# INC-{number}: {service} {failure.name}", "", "## Summary", ""]
        lines += [
            self.paragraph(
                [f"On day {number % 28 + 1} {service} had {failure.name} caused by {cause}."], v, 1
            )
        ]
        lines += ["", "## Timeline", ""]
        for step in range(rng.randint(4, 8)):
            what = rng.choice(failure.symptoms + failure.checks + failure.fixes)
            lines.append(f"- {start:02d}:{step * 7:02d} {rng.choice(PEOPLE)}: {self.fill(what, v)}")
        lines += ["", "## Root cause", "", self.paragraph([f"The root cause was {cause}."], v, 1)]
        lines += ["", "## Action items", ""]
        lines += [f"- [ ] {self.fill(fix, v)} (owner: {rng.choice(PEOPLE)})" for fix in failure.fixes]
        return "\n".join(lines) + "\n"


def generate(out: Path, files: int, seed: int = 7, start: int = 0) -> list[Path]:
    """Write files number `start` .. `start + files - 1` under `out` (same seed, same files); their paths."""
    services = [f"{domain}-{role}" for domain in DOMAINS for role in ROLES]
    written = []
    for number in range(start, start + files):
        writer = Writer(random.Random(f"{seed}-{number}"))
        service = writer.rng.choice(services)
        failure = writer.rng.choice(FAILURES)
        if number % 8 == 7:
            path = out / "incidents" / f"{number:06d}-{service}.md"
            text = writer.postmortem(number, service, failure)
        else:
            slug = failure.name.replace(" ", "-")
            path = out / "runbooks" / service / f"{number:06d}-{slug}.md"
            text = writer.runbook(service, failure)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{len(generate(args.out, args.files, args.seed))} files in {args.out}")


if __name__ == "__main__":
    main()
