#!/usr/bin/env python3
"""The infrastructure matches the seed architecture and Pujo's contract.

Reads the Terraform sources (python-hcl2) and the rendered Kubernetes
overlays (files in $PUJO_INFRA_RENDERED, made by scripts/check-infra.sh, or
rendered here with kubectl kustomize). Run: python -m unittest test_seed
"""
import ipaddress
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import hcl2
import yaml

ROOT = Path(__file__).resolve().parents[2]
TF = ROOT / "terraform"
K8S = ROOT / "deploy" / "kubernetes"
ARGO = ROOT / "deploy" / "argocd"
ENVS = ("production", "staging")

# The seed's "Subnet CIDR Allocation" table.
SEED_VPC = "10.0.0.0/16"
SEED_SUBNETS = {
    "public_subnet_cidrs": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"],
    "private_subnet_cidrs": ["10.0.11.0/24", "10.0.12.0/24", "10.0.13.0/24"],
    "database_subnet_cidrs": ["10.0.21.0/24", "10.0.22.0/24", "10.0.23.0/24"],
}
SEED_AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]

# Where the pods find Pujo's secrets: the Secret `pujo-secrets` (written by
# the ExternalSecret of the same name), mounted read-only here.
SECRETS_SECRET = "pujo-secrets"
SECRETS_DIR = "/run/secrets/pujo"
# The keys Terraform writes into Secrets Manager (module `secrets`) and the
# ExternalSecret copies: two settings' values, and the RDS CA bundle that
# Pujo verifies the database with (PUJO_DB_CA_FILE names its file).
SECRET_KEYS = {"PUJO_DATABASE_URL", "PUJO_REDIS_PASSWORD", "RDS_CA_BUNDLE"}
CA_BUNDLE_KEY = "RDS_CA_BUNDLE"

# Connections a database instance class takes from Pujo's pods: RDS sets
# max_connections to DBInstanceClassMemory/9531392 (80-110 for 1 GiB, as
# RDS keeps some memory for itself); planned at the low end, minus slots
# for superusers, the migration Job and an operator's psql. Add a class
# here when Terraform's default changes.
DB_CONNECTION_BUDGET = {
    "db.t3.micro": 80 - 10,
    "db.t4g.micro": 80 - 10,
}

# PostgreSQL connections a serving pod holds besides its pool: the one on
# which it LISTENs for the other pods' cache invalidations (pujo_cache).
LISTEN_CONNECTIONS_PER_POD = 1

# Redis (ElastiCache): TLS is required in transit, so Pujo connects with
# rediss://; the AUTH token comes from the mounted Secret, never the URL.
REDIS_PORT = 6379
REDIS_PASSWORD_KEY = "PUJO_REDIS_PASSWORD"
# ElastiCache's short region names in endpoint host names. Add a region
# here when an environment moves.
ELASTICACHE_REGION_CODES = {"us-east-1": "use1", "us-east-2": "use2", "us-west-2": "usw2",
                            "eu-west-1": "euw1", "ap-south-1": "aps1"}
# The cache, Redis and database pool metrics Pujo exports; the dashboard
# and the alerts may use no other cache_*, redis_* or db_* names.
STORE_METRICS = {
    "cache_requests_total", "cache_invalidations_total", "redis_errors_total",
    "redis_circuit_open", "redis_pool_connections", "redis_pool_max_connections",
    "db_pool_connections", "db_pool_max_connections", "db_queries_total",
}

# Photo uploads (docs/DEPLOYMENT.md, "Photos in S3"; deploy/kubernetes).
MiB = 1024 * 1024
# Uploads arriving at one pod at once that its scratch space must hold, each
# up to PUJO_MAX_UPLOAD_BYTES plus the copy without GPS made while it is
# processed (the copy exists for one upload per decoder at a time; counted
# for every upload, to be safe).
UPLOADS_IN_FLIGHT_PER_POD = 16
# A pod's memory besides the media cache: the process itself (5 MiB idle,
# docs/BENCHMARKS.md; connection buffers and the database pool under load).
PROCESS_MEMORY = 64 * MiB
# The in-process tier of API responses when PUJO_CACHE_LOCAL_BYTES is unset.
DEFAULT_CACHE_LOCAL_BYTES = 64 * MiB
# One ordinary upload being processed: a 12 MP JPEG is decoded at a reduced
# DCT scale (about 2000x1500x3 bytes) before the derivatives are made.
ONE_PHOTO_MEMORY = 64 * MiB
# The worst single decode: a PNG or WebP near PUJO_MAX_PIXELS, which the
# image decoder caps at 512 MiB (image::Limits' default max_alloc), plus
# the 8-bit copy Pujo makes of a 16-bit image (half of it).
WORST_DECODE_MEMORY = 512 * MiB + 256 * MiB
# A photo upload under way when its pod is told to stop still gets this long
# (ALB deregistration delay, Pujo's drain): a 30 MiB photo at 2 Mbit/s.
UPLOAD_GRACE_SECONDS = 120
# Multipart framing and the caption (at most 8 KiB) around one file.
MULTIPART_OVERHEAD = 64 * 1024

def one(v):
    """python-hcl2 wraps attribute values in one-element lists."""
    while isinstance(v, list) and len(v) == 1:
        v = v[0]
    return v


def load_hcl(path):
    with open(path) as f:
        return hcl2.load(f)


def blocks(doc, kind):
    """All blocks of a kind as {(type, name): body} or {name: body}."""
    out = {}
    for entry in doc.get(kind, []):
        for k, v in entry.items():
            if kind in ("resource", "data"):
                for name, body in v.items():
                    out[(k, name)] = body
            else:
                out[k] = v
    return out


def module_variables(module_dir):
    out = {}
    for tf in Path(module_dir).glob("*.tf"):
        out.update(blocks(load_hcl(tf), "variable"))
    return out


def resolve(value, variables, overrides=None):
    """Resolve a bare "${var.x}" against module call arguments or defaults."""
    value = one(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{var\.([a-z0-9_]+)\}", value)
        if m:
            name = m.group(1)
            if overrides and name in overrides:
                return one(overrides[name])
            return one(variables[name].get("default"))
        m = re.fullmatch(r"\$\{(-?\d+)\}", value)
        if m:
            return int(m.group(1))
    return value


def stack_call(env):
    """Arguments of the one `module "stack"` call of terraform/envs/<env>."""
    modules = blocks(load_hcl(TF / "envs" / env / "main.tf"), "module")
    stack = modules["stack"]
    if one(stack["source"]) != "../../modules/stack":
        raise AssertionError(f"{env}: module stack has source {one(stack['source'])}")
    return stack


def stack_module(name):
    """Arguments of a module call in terraform/modules/stack/main.tf."""
    return blocks(load_hcl(TF / "modules" / "stack" / "main.tf"), "module")[name]


def env_value(env, value):
    """A value in terraform/modules/stack as environment env deploys it: a
    bare var.x of the stack is what envs/<env>/main.tf passes for x, and a
    bare var.y there is the default in envs/<env>/variables.tf."""
    value = resolve(value, module_variables(TF / "modules" / "stack"), stack_call(env))
    return resolve(value, module_variables(TF / "envs" / env))


_rendered_cache = {}


def rendered(overlay):
    """Objects of a rendered overlay."""
    if overlay not in _rendered_cache:
        d = os.environ.get("PUJO_INFRA_RENDERED")
        if d and (Path(d) / f"{overlay}.yaml").exists():
            text = (Path(d) / f"{overlay}.yaml").read_text()
        else:
            text = subprocess.run(
                ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
                check=True, capture_output=True, text=True).stdout
        _rendered_cache[overlay] = [d for d in yaml.safe_load_all(text) if d]
    return _rendered_cache[overlay]


def obj(overlay, kind, name):
    for d in rendered(overlay):
        if d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    raise AssertionError(f"{overlay}: no {kind}/{name}")


def seconds(duration):
    """Humantime subset used in the manifests: 75s, 500ms, 5m, 1h."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    if not m:
        raise ValueError(f"unsupported duration {duration!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def quantity(q):
    """Kubernetes quantities used here: 256Mi, 1Gi, 2Gi, 64Mi, plain bytes."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", str(q))
    if not m:
        raise ValueError(f"unsupported quantity {q!r}")
    return int(m.group(1)) * {None: 1, "Ki": 1024, "Mi": MiB, "Gi": 1024 * MiB}[m.group(2)]


def account_of(env):
    """The AWS account ID of an overlay, from the app's IRSA role ARN."""
    arn = obj(env, "ServiceAccount", "pujo")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    m = re.fullmatch(r"arn:aws:iam::(\d{12}):role/.+", arn)
    if not m:
        raise AssertionError(f"{env}: ServiceAccount pujo: role ARN {arn!r}")
    return m.group(1)


def config_of(env):
    return obj(env, "ConfigMap", "pujo-config")["data"]


class CidrPlan(unittest.TestCase):
    def test_vpc_module_defaults_are_the_seed_plan(self):
        variables = module_variables(TF / "modules" / "vpc")
        self.assertEqual(one(variables["cidr_block"]["default"]), SEED_VPC)
        for name, cidrs in SEED_SUBNETS.items():
            self.assertEqual(one(variables[name]["default"]), cidrs, name)

    def test_each_environment_uses_the_seed_plan(self):
        # Each environment is one call of terraform/modules/stack, which calls
        # the vpc module.
        vpc = stack_module("vpc")
        for env in ENVS:
            self.assertEqual(env_value(env, vpc["cidr_block"]), SEED_VPC, env)
            for name, cidrs in SEED_SUBNETS.items():
                self.assertEqual(env_value(env, vpc[name]), cidrs, f"{env}: {name}")
            env_vars = module_variables(TF / "envs" / env)
            self.assertEqual(one(env_vars["azs"]["default"]), SEED_AZS, env)
            self.assertEqual(env_value(env, vpc["azs"]), SEED_AZS, env)

    def test_subnets_fit_the_vpc_without_overlapping(self):
        vpc = ipaddress.ip_network(SEED_VPC)
        nets = [ipaddress.ip_network(c) for cs in SEED_SUBNETS.values() for c in cs]
        for n in nets:
            self.assertTrue(n.subnet_of(vpc), n)
        for i, a in enumerate(nets):
            for b in nets[i + 1:]:
                self.assertFalse(a.overlaps(b), (a, b))

    # One NAT gateway per AZ and no route out of the database subnets:
    # terraform/modules/vpc/tests/seed.tftest.hcl (terraform test).

    def test_network_policy_cidrs_are_the_terraform_subnets(self):
        for env in ENVS:
            np = obj(env, "NetworkPolicy", "pujo")
            alb = {b["ipBlock"]["cidr"] for rule in np["spec"]["ingress"]
                   for b in rule["from"] if "ipBlock" in b}
            self.assertEqual(alb, set(SEED_SUBNETS["public_subnet_cidrs"]), env)
            db = {b["ipBlock"]["cidr"] for rule in np["spec"]["egress"]
                  for b in rule.get("to", []) if "ipBlock" in b
                  and any(p["port"] in (5432, 6379) for p in rule["ports"])}
            self.assertEqual(db, set(SEED_SUBNETS["database_subnet_cidrs"]), env)


# The security group table, rule for rule:
# terraform/modules/security-groups/tests/seed.tftest.hcl (terraform test).


class KubernetesContract(unittest.TestCase):
    def test_hpa_is_the_seed_policy(self):
        for env in ENVS:
            hpa = obj(env, "HorizontalPodAutoscaler", "pujo")["spec"]
            self.assertEqual((hpa["minReplicas"], hpa["maxReplicas"]), (3, 10), env)
            targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
                       for m in hpa["metrics"]}
            self.assertEqual(targets, {"cpu": 70, "memory": 80}, env)
            up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
            self.assertEqual([(p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]],
                             [("Pods", 1, 60)], env)
            self.assertEqual([(p["type"], p["value"], p["periodSeconds"]) for p in down["policies"]],
                             [("Pods", 1, 300)], env)

    def test_probes_rollout_and_resources(self):
        for env in ENVS:
            dep = obj(env, "Deployment", "pujo")["spec"]
            self.assertEqual(dep["replicas"], 3, env)
            self.assertEqual(dep["strategy"]["rollingUpdate"], {"maxSurge": 1, "maxUnavailable": 0}, env)
            pod = dep["template"]["spec"]
            (c,) = pod["containers"]
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            self.assertEqual(ports, {"http": 8080, "metrics": 9090}, env)
            for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready"),
                                ("startupProbe", "/health")):
                self.assertEqual(c[probe]["httpGet"]["path"], path, f"{env}: {probe}")
                self.assertNotIn("exec", c[probe], f"{env}: {probe}")
            self.assertEqual(c["resources"], {"requests": {"cpu": "200m", "memory": "256Mi"},
                                              "limits": {"cpu": "1", "memory": "1Gi"}}, env)
            ing = obj(env, "Ingress", "pujo")["metadata"]["annotations"]
            self.assertEqual(ing["alb.ingress.kubernetes.io/healthcheck-path"], "/health", env)
            self.assertEqual(ing["alb.ingress.kubernetes.io/target-type"], "ip", env)

    def test_shutdown_fits_the_grace_period(self):
        for env in ENVS:
            pod = obj(env, "Deployment", "pujo")["spec"]["template"]["spec"]
            cfg = obj(env, "ConfigMap", "pujo-config")["data"]
            (c,) = pod["containers"]
            total = (c["lifecycle"]["preStop"]["sleep"]["seconds"]
                     + seconds(cfg["PUJO_SHUTDOWN_DELAY"]) + seconds(cfg["PUJO_DRAIN_TIMEOUT"]))
            self.assertLess(total, pod["terminationGracePeriodSeconds"], env)
            # An upload under way when the pod starts stopping: the ALB keeps
            # its connection for the deregistration delay, and Pujo keeps
            # serving it at least as long.
            ing_tg = obj(env, "Ingress", "pujo")["metadata"]["annotations"][
                "alb.ingress.kubernetes.io/target-group-attributes"]
            dereg = int(re.search(r"deregistration_delay\.timeout_seconds=(\d+)", ing_tg).group(1))
            self.assertGreaterEqual(dereg, UPLOAD_GRACE_SECONDS, f"{env}: ALB deregistration delay")
            self.assertGreaterEqual(total, dereg, f"{env}: Pujo stops before the ALB lets go of uploads")
            # Longer keep-alive than the ALB's idle timeout.
            alb_idle = int(re.search(r"idle_timeout\.timeout_seconds=(\d+)", obj(
                env, "Ingress", "pujo")["metadata"]["annotations"][
                "alb.ingress.kubernetes.io/load-balancer-attributes"]).group(1))
            self.assertGreater(seconds(cfg["PUJO_KEEP_ALIVE_TIMEOUT"]), alb_idle, env)

    def test_no_secret_in_the_pod_env(self):
        # Secret values only ever arrive as files from the mounted Secret.
        # (S3 needs no secret on EKS: the IRSA role, test_irsa_* below.
        # PUJO_REDIS_URL is a secret setting to Pujo because a URL may hold
        # a password; Redis.test_* below checks that this one holds none.)
        secrets = {"PUJO_DATABASE_URL", "PUJO_REDIS_PASSWORD", "PUJO_S3_SECRET_ACCESS_KEY"}
        for env in ENVS:
            cfg = obj(env, "ConfigMap", "pujo-config")["data"]
            self.assertFalse(secrets & set(cfg), f"{env}: a secret value in the ConfigMap")
            for kind, name in (("Deployment", "pujo"), ("Job", "pujo-migrate")):
                (c,) = obj(env, kind, name)["spec"]["template"]["spec"]["containers"]
                self.assertFalse(secrets & {e["name"] for e in c.get("env", [])},
                                 f"{env}: {kind}/{name}: a secret value in the env")
            self.assertFalse([d for d in rendered(env) if d["kind"] == "Secret"], env)

    def secret_files(self, env, kind, name):
        """{path: Secret key} of the pujo-secrets files a workload's container sees."""
        pod = obj(env, kind, name)["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        files = {}
        for m in c.get("volumeMounts", []):
            secret = volumes[m["name"]].get("secret")
            if not secret or secret["secretName"] != SECRETS_SECRET:
                continue
            self.assertEqual(m["mountPath"], SECRETS_DIR, f"{env}: {kind}/{name}")
            self.assertIs(m.get("readOnly"), True, f"{env}: {kind}/{name}: mount it read-only")
            self.assertNotIn("subPath", m, f"{env}: {kind}/{name}")
            self.assertFalse(secret.get("optional", False), f"{env}: {kind}/{name}")
            if "items" in secret:
                files.update({f"{SECRETS_DIR}/{i['path']}": i["key"] for i in secret["items"]})
            else:
                es = obj(env, "ExternalSecret", SECRETS_SECRET)["spec"]
                keys = {d["secretKey"] for d in es["data"]}
                files.update({f"{SECRETS_DIR}/{k}": k for k in keys})
        return files

    def test_database_url_comes_from_the_mounted_secret(self):
        for env in ENVS:
            es = obj(env, "ExternalSecret", SECRETS_SECRET)["spec"]
            self.assertEqual(es["target"]["name"], SECRETS_SECRET, env)
            written = {d["secretKey"] for d in es["data"]}
            cfg = obj(env, "ConfigMap", "pujo-config")["data"]
            (job,) = obj(env, "Job", "pujo-migrate")["spec"]["template"]["spec"]["containers"]
            job_env = {e["name"]: e.get("value") for e in job.get("env", [])}
            for kind, name, path in (("Deployment", "pujo", cfg.get("PUJO_DATABASE_URL_FILE")),
                                     ("Job", "pujo-migrate", job_env.get("PUJO_DATABASE_URL_FILE"))):
                where = f"{env}: {kind}/{name}"
                self.assertEqual(path, f"{SECRETS_DIR}/PUJO_DATABASE_URL",
                                 f"{where}: PUJO_DATABASE_URL_FILE")
                files = self.secret_files(env, kind, name)
                self.assertIn(path, files,
                              f"{where}: {path} is not in a mount of Secret {SECRETS_SECRET}")
                self.assertIn(files[path], written,
                              f"{where}: the ExternalSecret does not write {files[path]}")
            (c,) = obj(env, "Deployment", "pujo")["spec"]["template"]["spec"]["containers"]
            self.assertEqual([s["configMapRef"]["name"] for s in c["envFrom"]], ["pujo-config"], env)

    def ca_file(self, env, kind, name):
        """Where a workload's container is told to find the database CA bundle:
        its --db-ca-file flag, else PUJO_DB_CA_FILE in its env or ConfigMaps."""
        (c,) = obj(env, kind, name)["spec"]["template"]["spec"]["containers"]
        args = c.get("args", [])
        found = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--db-ca-file"]
        found += [a.split("=", 1)[1] for a in args if a.startswith("--db-ca-file=")]
        found += [e["value"] for e in c.get("env", []) if e["name"] == "PUJO_DB_CA_FILE"]
        for src in c.get("envFrom", []):
            cm = obj(env, "ConfigMap", src["configMapRef"]["name"])["data"]
            if "PUJO_DB_CA_FILE" in cm:
                found.append(cm["PUJO_DB_CA_FILE"])
        self.assertEqual(len(found), 1, f"{env}: {kind}/{name}: the database CA bundle set {len(found)} times")
        return found[0]

    def test_database_tls_is_verified_with_the_rds_bundle(self):
        # Terraform: the URL makes TLS mandatory; the rds module fetches the
        # region's bundle from the RDS truststore; the stack stores it in the
        # secret under the key the ExternalSecret reads.
        secrets_call = stack_module("secrets")
        self.assertIn("sslmode=require", one(secrets_call["database_url"]))
        self.assertEqual(one(secrets_call["db_ca_bundle"]), "${module.rds.ca_bundle_pem}")
        # The bundle is committed per region (no download at plan time):
        # each environment's region has one, of that region's RDS CAs.
        rds_main = (TF / "modules" / "rds" / "main.tf").read_text()
        self.assertIn('"${path.module}/ca-bundles/${data.aws_region.current.id}-bundle.pem"', rds_main)
        for env in ENVS:
            region = one(module_variables(TF / "envs" / env)["region"]["default"])
            bundle = TF / "modules" / "rds" / "ca-bundles" / f"{region}-bundle.pem"
            self.assertTrue(bundle.exists(), f"{env}: no RDS CA bundle for {region}")
            pem = bundle.read_text()
            self.assertGreaterEqual(pem.count("-----BEGIN CERTIFICATE-----"), 3, bundle)
            self.assertLess(len(pem), 48000, bundle)
        self.assertIn('rds.force_ssl', (TF / "modules" / "rds" / "main.tf").read_text())
        version = blocks(load_hcl(TF / "modules" / "secrets" / "main.tf"), "resource")[
            ("aws_secretsmanager_secret_version", "app")]
        stored = set(re.findall(r"'([A-Z_]+)': '\$\{var\.", one(version["secret_string"])))
        self.assertEqual(stored, SECRET_KEYS, "keys of the Secrets Manager secret")
        # Kubernetes: both workloads read the bundle from the mounted Secret.
        for env in ENVS:
            es = obj(env, "ExternalSecret", SECRETS_SECRET)["spec"]
            self.assertEqual({d["remoteRef"]["property"] for d in es["data"]}, SECRET_KEYS, env)
            for d in es["data"]:
                self.assertEqual(d["secretKey"], d["remoteRef"]["property"], env)
            for kind, name in (("Deployment", "pujo"), ("Job", "pujo-migrate")):
                where = f"{env}: {kind}/{name}"
                path = self.ca_file(env, kind, name)
                self.assertEqual(path, f"{SECRETS_DIR}/{CA_BUNDLE_KEY}", where)
                files = self.secret_files(env, kind, name)
                self.assertEqual(files.get(path), CA_BUNDLE_KEY,
                                 f"{where}: {path} is not key {CA_BUNDLE_KEY} of a mount of {SECRETS_SECRET}")

    def test_trusted_proxies_are_the_alb_subnets(self):
        # The ALB (target-type ip) connects from its interfaces in the public
        # subnets; only there is X-Forwarded-For believed. The VM and the
        # image trust no proxy.
        for env in ENVS:
            public = env_value(env, stack_module("vpc")["public_subnet_cidrs"])
            cfg = obj(env, "ConfigMap", "pujo-config")["data"]
            trusted = [c.strip() for c in cfg.get("PUJO_TRUSTED_PROXIES", "").split(",") if c.strip()]
            self.assertEqual(trusted, public, f"{env}: PUJO_TRUSTED_PROXIES")
            np = obj(env, "NetworkPolicy", "pujo")
            to_http = {b["ipBlock"]["cidr"] for rule in np["spec"]["ingress"]
                       if any(p["port"] == 8080 for p in rule["ports"])
                       for b in rule["from"] if "ipBlock" in b}
            self.assertEqual(to_http, set(trusted), f"{env}: the NetworkPolicy admits other proxies")
        vm = (ROOT / "deploy" / "vm" / "pujo.env.example").read_text()
        self.assertNotRegex(vm, r"(?m)^PUJO_TRUSTED_PROXIES=", "a VM without a proxy trusts none")
        self.assertNotIn("PUJO_TRUSTED_PROXIES", (ROOT / "nix" / "image.nix").read_text())

    def test_migrations_run_before_the_pods_change(self):
        def wave(d):
            return int(d["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))

        for env in ENVS:
            job = obj(env, "Job", "pujo-migrate")
            ann = job["metadata"]["annotations"]
            pod = job["spec"]["template"]["spec"]
            (c,) = pod["containers"]
            self.assertEqual(c["args"][0], "migrate", env)
            self.assertEqual(ann["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation", env)
            # A Sync hook in a wave before everything it must precede, after
            # everything it needs. (A PreSync hook would run before its
            # ServiceAccount and Secret exist on a first sync.)
            self.assertEqual(ann["argocd.argoproj.io/hook"], "Sync", env)
            needs = [obj(env, "Namespace", "durga-puja"),
                     obj(env, "ServiceAccount", pod["serviceAccountName"]),
                     obj(env, "ServiceAccount", "pujo-external-secrets"),
                     obj(env, "SecretStore", "aws-secrets-manager"),
                     obj(env, "ExternalSecret", SECRETS_SECRET)]
            for d in needs:
                self.assertLess(wave(d), wave(job), f"{env}: {d['kind']}/{d['metadata']['name']}")
            self.assertLess(wave(needs[0]), min(wave(d) for d in needs[1:]),
                            f"{env}: the Namespace first")
            for d in rendered(env):
                if d is job or any(d is n for n in needs):
                    continue
                self.assertNotIn("argocd.argoproj.io/hook", d["metadata"].get("annotations", {}),
                                 f"{env}: {d['kind']}/{d['metadata']['name']}")
                self.assertGreater(wave(d), wave(job), f"{env}: {d['kind']}/{d['metadata']['name']}")
            # The serving pods leave migrating to the Job.
            cfg = obj(env, "ConfigMap", "pujo-config")["data"]
            self.assertEqual(cfg.get("PUJO_MIGRATE", "false"), "false", env)
            (server,) = obj(env, "Deployment", "pujo")["spec"]["template"]["spec"]["containers"]
            self.assertNotIn("--migrate", server.get("args", []), env)

    def test_database_connections_fit_the_instance(self):
        for env in ENVS:
            db_class = env_value(env, stack_module("rds")["instance_class"])
            self.assertIn(db_class, DB_CONNECTION_BUDGET,
                          f"{env}: no connection budget for {db_class} in DB_CONNECTION_BUDGET")
            cfg = obj(env, "ConfigMap", "pujo-config")["data"]
            pool = int(cfg.get("PUJO_DB_POOL_SIZE", "16"))
            hpa = obj(env, "HorizontalPodAutoscaler", "pujo")["spec"]
            surge = obj(env, "Deployment", "pujo")["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
            pods = hpa["maxReplicas"] + surge
            per_pod = pool + LISTEN_CONNECTIONS_PER_POD
            self.assertLessEqual(
                pods * per_pod, DB_CONNECTION_BUDGET[db_class],
                f"{env}: {pods} pods x (PUJO_DB_POOL_SIZE {pool} + {LISTEN_CONNECTIONS_PER_POD} "
                f"LISTEN connection) exceed what {db_class} allows")

    def test_irsa_roles_follow_terraform_names(self):
        for env, prefix in (("production", "durga-puja"), ("staging", "durga-puja-staging")):
            env_vars = module_variables(TF / "envs" / env)
            self.assertEqual(one(env_vars["name"]["default"]), prefix)
            self.assertEqual(env_value(env, stack_module("iam")["name"]), prefix, env)
            sa = obj(env, "ServiceAccount", "pujo")["metadata"]["annotations"]
            self.assertTrue(sa["eks.amazonaws.com/role-arn"].endswith(f":role/{prefix}-pujo-app"), env)
            es = obj(env, "ExternalSecret", "pujo-secrets")["spec"]["data"]
            self.assertEqual({d["remoteRef"]["key"] for d in es}, {f"pujo/{env}/app"}, env)
            self.assertEqual({d["secretKey"] for d in es}, SECRET_KEYS, env)


def app_policy_statements():
    """The statements of Pujo's IRSA policy (terraform/modules/iam)."""
    docs = blocks(load_hcl(TF / "modules" / "iam" / "main.tf"), "data")
    return docs[("aws_iam_policy_document", "app")]["statement"]


def keys_pujo_writes():
    """The key prefixes of the blob store, from the functions that make keys
    (src/media/mod.rs: original_key, derivative_key)."""
    text = (ROOT / "src" / "media" / "mod.rs").read_text()
    prefixes = set(re.findall(r'format!\("([a-z_]+/)\{', text))
    if not prefixes:
        raise AssertionError("src/media/mod.rs: no blob key prefixes found (format!(\"<prefix>/{...}\"))")
    return prefixes


class PhotoStorage(unittest.TestCase):
    """Photos go to the environment's S3 bucket, encrypted with its KMS key,
    through the pods' IRSA role, with scratch space and memory for uploads."""

    def test_the_bucket_is_the_one_terraform_makes(self):
        s3 = stack_module("s3")
        self.assertEqual(one(s3["bucket_name"]),
                         "${var.name}-assets-${data.aws_caller_identity.current.account_id}",
                         "modules/stack: the bucket name must follow from name and account "
                         "(deploy/ states it before anything is applied)")
        for env in ENVS:
            name = one(module_variables(TF / "envs" / env)["name"]["default"])
            region = one(module_variables(TF / "envs" / env)["region"]["default"])
            cfg = config_of(env)
            bucket = f"{name}-assets-{account_of(env)}"
            self.assertEqual(cfg.get("PUJO_S3_BUCKET"), bucket, f"{env}: PUJO_S3_BUCKET")
            self.assertLessEqual(len(bucket + "-logs"), 63, f"{env}: S3 bucket names have at most 63 characters")
            self.assertEqual(cfg.get("PUJO_S3_REGION"), region, f"{env}: PUJO_S3_REGION")
            # AWS itself, through the role: no endpoint, no static keys.
            for setting in ("PUJO_S3_ENDPOINT", "PUJO_S3_ACCESS_KEY_ID", "PUJO_S3_SECRET_ACCESS_KEY",
                            "PUJO_S3_SECRET_ACCESS_KEY_FILE"):
                self.assertNotIn(setting, cfg, f"{env}: {setting}: EKS uses the IRSA role")
            self.assertEqual(cfg.get("PUJO_S3_PATH_STYLE", "false"), "false", env)

    def test_puts_use_the_bucket_kms_key(self):
        sse = blocks(load_hcl(TF / "modules" / "s3" / "main.tf"), "resource")[
            ("aws_s3_bucket_server_side_encryption_configuration", "this")]
        (rule,) = sse["rule"]
        (default,) = rule["apply_server_side_encryption_by_default"]
        self.assertEqual(one(default["sse_algorithm"]), "aws:kms")
        self.assertEqual(one(default["kms_master_key_id"]), "${var.kms_key_arn}")
        self.assertEqual(one(stack_module("s3")["kms_key_arn"]), "${module.kms.key_arn}")
        self.assertEqual(one(stack_module("iam")["kms_key_arn"]), "${module.kms.key_arn}",
                         "the role may use the key the bucket is encrypted with")
        alias = blocks(load_hcl(TF / "modules" / "kms" / "main.tf"), "resource")[("aws_kms_alias", "this")]
        self.assertEqual(one(alias["name"]), "alias/${var.name}")
        self.assertEqual(one(stack_module("kms")["name"]), "${var.name}")
        outputs = blocks(load_hcl(TF / "modules" / "stack" / "outputs.tf"), "output")
        self.assertEqual(one(outputs["s3_kms_key_id"]["value"]), "${module.kms.alias_arn}")
        for env in ENVS:
            name = one(module_variables(TF / "envs" / env)["name"]["default"])
            region = one(module_variables(TF / "envs" / env)["region"]["default"])
            cfg = config_of(env)
            # Pujo names the encryption on every put: AES256 (its default)
            # would bypass the key, aws:kms without a key id would use aws/s3.
            self.assertEqual(cfg.get("PUJO_S3_SSE"), "aws:kms", f"{env}: PUJO_S3_SSE")
            self.assertEqual(cfg.get("PUJO_S3_KMS_KEY_ID"),
                             f"arn:aws:kms:{region}:{account_of(env)}:alias/{name}", f"{env}: PUJO_S3_KMS_KEY_ID")

    def test_irsa_role_allows_what_pujo_does_with_the_bucket(self):
        iam = stack_module("iam")
        self.assertEqual(one(iam["bucket_arn"]), "${module.s3.bucket_arn}")
        variables = module_variables(TF / "modules" / "iam")
        # python-hcl2 wraps the list once more; one() would also unwrap a
        # one-element list into its string.
        (prefixes,) = variables["bucket_prefixes"]["default"]
        statements = app_policy_statements()

        def granting(action):
            return [st for st in statements if action in one(st["actions"])]

        own_account = [("StringEquals", "s3:ResourceAccount", "${data.aws_caller_identity.current.account_id}")]

        def conditions(st):
            return [(one(c["test"]), one(c["variable"]), one(c["values"])) for c in st.get("condition", [])]

        # HeadBucket (/ready) is ListBucket without a prefix: no condition
        # but the bucket's owner, which every request has.
        (listing,) = granting("s3:ListBucket")
        self.assertEqual(one(listing["resources"]), "${var.bucket_arn}")
        self.assertEqual(conditions(listing), own_account,
                         "another condition on ListBucket (s3:prefix) would refuse HeadBucket")
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            (st,) = granting(action)
            resources = one(st["resources"])
            m = re.fullmatch(r'\$\{\[for (\w+) in var\.bucket_prefixes : "\$\{var\.bucket_arn\}/\$\{\1\}\*"\]\}',
                             resources)
            self.assertTrue(m, f"{action}: resources {resources!r}")
            self.assertEqual(conditions(st), own_account, action)
        missing = keys_pujo_writes() - set(prefixes)
        self.assertFalse(missing, f"Pujo writes keys under {sorted(missing)}, which the role may not touch")
        kms = granting("kms:GenerateDataKey")
        self.assertEqual(len(kms), 1)
        self.assertIn("kms:Decrypt", one(kms[0]["actions"]))
        self.assertEqual(one(kms[0]["resources"]), "${var.kms_key_arn}")
        # The role is trusted by the ServiceAccount the pods run as.
        for env in ENVS:
            for kind, wname in (("Deployment", "pujo"), ("Job", "pujo-migrate")):
                pod = obj(env, kind, wname)["spec"]["template"]["spec"]
                self.assertEqual(pod["serviceAccountName"], one(variables["app_service_account"]["default"]),
                                 f"{env}: {kind}/{wname}")
            sa = obj(env, "ServiceAccount", "pujo")
            self.assertEqual(sa["metadata"]["namespace"], one(variables["app_namespace"]["default"]), env)
            self.assertIn("eks.amazonaws.com/role-arn", sa["metadata"].get("annotations", {}), env)
            # S3 and STS (IRSA's web identity) over HTTPS.
            np = obj(env, "NetworkPolicy", "pujo")
            https = [r for r in np["spec"]["egress"] if any(p.get("port") == 443 for p in r.get("ports", []))]
            self.assertTrue(https, f"{env}: the NetworkPolicy blocks HTTPS to S3 and STS")

    def test_uploads_have_scratch_space(self):
        for env in ENVS:
            cfg = config_of(env)
            pod = obj(env, "Deployment", "pujo")["spec"]["template"]["spec"]
            (c,) = pod["containers"]
            volumes = {v["name"]: v for v in pod["volumes"]}
            (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == cfg["PUJO_DATA_DIR"]]
            data = volumes[mount["name"]]["emptyDir"]
            self.assertNotEqual(data.get("medium"), "Memory",
                                f"{env}: uploads in a tmpfs would count against the memory limit")
            per_upload = 2 * int(cfg["PUJO_MAX_UPLOAD_BYTES"])
            self.assertGreaterEqual(quantity(data["sizeLimit"]), UPLOADS_IN_FLIGHT_PER_POD * per_upload,
                                    f"{env}: PUJO_DATA_DIR emptyDir for {UPLOADS_IN_FLIGHT_PER_POD} uploads")

    def test_memory_fits_the_cache_and_the_decoder(self):
        for env in ENVS:
            cfg = config_of(env)
            pod = obj(env, "Deployment", "pujo")["spec"]["template"]["spec"]
            (c,) = pod["containers"]
            request = quantity(c["resources"]["requests"]["memory"])
            limit = quantity(c["resources"]["limits"]["memory"])
            # Both in-process caches: media (derivatives) and API responses.
            cache = (int(cfg.get("PUJO_MEDIA_CACHE_BYTES", 256 * MiB))
                     + int(cfg.get("PUJO_CACHE_LOCAL_BYTES", DEFAULT_CACHE_LOCAL_BYTES)))
            hpa = obj(env, "HorizontalPodAutoscaler", "pujo")["spec"]
            (target,) = [m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]
                         if m["resource"]["name"] == "memory"]
            # A warm cache and one upload must not keep the HPA scaling out.
            steady = PROCESS_MEMORY + cache + ONE_PHOTO_MEMORY
            self.assertLessEqual(steady, request * target / 100,
                                 f"{env}: process + PUJO_MEDIA_CACHE_BYTES + PUJO_CACHE_LOCAL_BYTES + "
                                 f"one upload exceed the HPA's "
                                 f"{target} % of the {request // MiB} MiB request")
            # Pujo decodes as many photos at once as it has CPUs (1-4).
            workers = max(1, min(4, math.ceil(float(c["resources"]["limits"]["cpu"]))))
            tmpfs = sum(quantity(v["emptyDir"].get("sizeLimit", 0)) for v in pod["volumes"]
                        if v.get("emptyDir", {}).get("medium") == "Memory")
            worst = PROCESS_MEMORY + cache + workers * WORST_DECODE_MEMORY + tmpfs
            self.assertLessEqual(worst, limit, f"{env}: the worst decode would be OOM-killed")


class Redis(unittest.TestCase):
    """The shared cache tier: ElastiCache over TLS with an AUTH token, which
    reaches the pods only as a file of the mounted Secret."""

    def test_terraform_makes_a_tls_endpoint_and_stores_the_token(self):
        group = blocks(load_hcl(TF / "modules" / "elasticache" / "main.tf"), "resource")[
            ("aws_elasticache_replication_group", "this")]
        self.assertEqual(one(group["port"]), REDIS_PORT)
        self.assertIs(one(group["transit_encryption_enabled"]), True)
        self.assertEqual(one(group["transit_encryption_mode"]), "required")
        self.assertIs(one(group["at_rest_encryption_enabled"]), True)
        self.assertEqual(one(group["auth_token"]), "${var.auth_token}")
        # One generated token: ElastiCache's AUTH and what Pujo is given.
        cache, secrets = stack_module("elasticache"), stack_module("secrets")
        self.assertEqual(one(cache["auth_token"]), "${local.redis_password}")
        self.assertEqual(one(secrets["redis_password"]), "${local.redis_password}")
        version = blocks(load_hcl(TF / "modules" / "secrets" / "main.tf"), "resource")[
            ("aws_secretsmanager_secret_version", "app")]
        self.assertIn(f"'{REDIS_PASSWORD_KEY}': '${{var.redis_password}}'", one(version["secret_string"]))
        # The URL the overlays copy: TLS, the primary endpoint (it follows a
        # failover), the group's port, no password.
        outputs = blocks(load_hcl(TF / "modules" / "stack" / "outputs.tf"), "output")
        self.assertEqual(one(outputs["redis_url"]["value"]),
                         "rediss://${module.elasticache.primary_endpoint_address}:${module.elasticache.port}")
        for env in ENVS:
            env_outputs = blocks(load_hcl(TF / "envs" / env / "outputs.tf"), "output")
            self.assertEqual(one(env_outputs["redis_url"]["value"]), "${module.stack.redis_url}", env)

    def test_overlays_point_at_their_environment_over_tls(self):
        group_id = one(stack_module("elasticache")["replication_group_id"])
        self.assertEqual(group_id, "${var.name}-redis")
        for env in ENVS:
            env_vars = module_variables(TF / "envs" / env)
            name = one(env_vars["name"]["default"])
            region = one(env_vars["region"]["default"])
            self.assertIn(region, ELASTICACHE_REGION_CODES,
                          f"{env}: add {region}'s short name to ELASTICACHE_REGION_CODES")
            url = config_of(env).get("PUJO_REDIS_URL")
            self.assertTrue(url, f"{env}: no PUJO_REDIS_URL: the pods would cache in process only")
            m = re.fullmatch(r"(?P<scheme>[a-z]+)://(?P<userinfo>[^@/]*@)?(?P<host>[^:/@]+)"
                             r"(?::(?P<port>\d+))?/?", url)
            self.assertTrue(m, f"{env}: PUJO_REDIS_URL {url!r}")
            self.assertEqual(m["scheme"], "rediss", f"{env}: ElastiCache requires TLS in transit")
            self.assertIsNone(m["userinfo"], f"{env}: a password in PUJO_REDIS_URL, which is in a ConfigMap; "
                                             f"it belongs in the Secret (PUJO_REDIS_PASSWORD_FILE)")
            self.assertEqual(int(m["port"] or 0), REDIS_PORT, f"{env}: PUJO_REDIS_URL port")
            host = re.escape(f"master.{name}-redis.") + r"[a-z0-9]+" + re.escape(
                f".{ELASTICACHE_REGION_CODES[region]}.cache.amazonaws.com")
            self.assertRegex(m["host"], f"^{host}$",
                             f"{env}: not the primary endpoint of {name}-redis (terraform output redis_url)")

    def test_password_comes_from_the_mounted_secret(self):
        path = f"{SECRETS_DIR}/{REDIS_PASSWORD_KEY}"
        for env in ENVS:
            cfg = config_of(env)
            self.assertEqual(cfg.get("PUJO_REDIS_PASSWORD_FILE"), path, f"{env}: PUJO_REDIS_PASSWORD_FILE")
            files = KubernetesContract.secret_files(self, env, "Deployment", "pujo")
            self.assertEqual(files.get(path), REDIS_PASSWORD_KEY,
                             f"{env}: {path} is not key {REDIS_PASSWORD_KEY} of a mount of {SECRETS_SECRET}")
            es = obj(env, "ExternalSecret", SECRETS_SECRET)["spec"]["data"]
            self.assertIn(REDIS_PASSWORD_KEY, {d["secretKey"] for d in es}, env)
            # The migration Job does not use Redis and does not get the token.
            job = KubernetesContract.secret_files(self, env, "Job", "pujo-migrate")
            self.assertNotIn(REDIS_PASSWORD_KEY, job.values(), f"{env}: Job/pujo-migrate")

    def test_network_policy_lets_pods_reach_redis(self):
        for env in ENVS:
            np = obj(env, "NetworkPolicy", "pujo")
            to_redis = {b["ipBlock"]["cidr"] for rule in np["spec"]["egress"]
                        if any(p.get("port") == REDIS_PORT for p in rule.get("ports", []))
                        for b in rule.get("to", []) if "ipBlock" in b}
            self.assertEqual(to_redis, set(SEED_SUBNETS["database_subnet_cidrs"]), env)


def github_anchor(heading):
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


class Monitoring(unittest.TestCase):
    """The alerts and the dashboard name metrics Pujo exports, and every
    alert has its section in docs/OPERATIONS.md."""

    def rules(self):
        return obj("production", "PrometheusRule", "pujo")["spec"]["groups"]

    def dashboard(self):
        return json.loads(obj("production", "ConfigMap", "pujo-grafana-dashboard")["data"]["pujo.json"])

    def dashboard_exprs(self):
        def walk(panels):
            for p in panels:
                for target in p.get("targets", []):
                    yield p["title"], target["expr"]
                yield from walk(p.get("panels", []))
        return list(walk(self.dashboard()["panels"]))

    @staticmethod
    def store_metrics(expr):
        # Metric names only: not recording rules (a:b:c) or label names.
        return set(re.findall(r"(?<![:\w])((?:cache|redis|db)_[a-z_]+)\b(?!\s*[=!]~?)", expr))

    def test_store_metrics_are_the_exported_ones(self):
        used = {}
        for group in self.rules():
            for rule in group["rules"]:
                for name in self.store_metrics(rule["expr"]):
                    used.setdefault(name, []).append(rule.get("alert") or rule.get("record"))
        for title, expr in self.dashboard_exprs():
            for name in self.store_metrics(expr):
                used.setdefault(name, []).append(f"panel {title!r}")
        unknown = {n: w for n, w in used.items() if n not in STORE_METRICS}
        self.assertFalse(unknown, "metrics Pujo does not export (see STORE_METRICS)")
        on_dashboard = set().union(*(self.store_metrics(e) for _, e in self.dashboard_exprs()))
        self.assertFalse(STORE_METRICS - on_dashboard, "cache, Redis and pool metrics without a panel")

    def test_alerts_cover_redis_and_the_cache(self):
        alerts = {r["alert"]: r for g in self.rules() for r in g["rules"] if "alert" in r}
        self.assertIn("redis_errors_total", alerts["PujoRedisErrors"]["expr"])
        self.assertIn("redis_circuit_open", alerts["PujoRedisCircuitOpen"]["expr"])
        records = {r["record"]: r["expr"] for g in self.rules() for r in g["rules"] if "record" in r}
        self.assertIn("pujo:cache_hit_ratio:rate10m", alerts["PujoCacheHitRatioCollapse"]["expr"])
        ratio = records["pujo:cache_hit_ratio:rate10m"]
        self.assertIn('result="hit"', ratio)
        self.assertIn("tier", ratio, "the hit ratio is per tier (moka, redis)")

    def test_every_alert_has_a_runbook_section(self):
        text = (ROOT / "docs" / "OPERATIONS.md").read_text()
        anchors = {github_anchor(h) for h in re.findall(r"(?m)^#+ (.+)$", text)}
        for group in self.rules():
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                url = rule["annotations"].get("runbook_url", "")
                self.assertRegex(url, r"/docs/OPERATIONS\.md#", rule["alert"])
                self.assertEqual(url.rsplit("#", 1)[1], rule["alert"].lower(), rule["alert"])
                self.assertIn(url.rsplit("#", 1)[1], anchors,
                              f"{rule['alert']}: no section \"{rule['alert']}\" in docs/OPERATIONS.md")


class VirtualMachine(unittest.TestCase):
    def unit(self, name="pujo.service"):
        out = {}
        for line in (ROOT / "deploy" / "vm" / name).read_text().splitlines():
            if "=" in line and not line.startswith(("#", ";")):
                key, _, value = line.partition("=")
                out.setdefault(key, []).append(value)
        return out

    def test_data_dir_is_the_writable_state_directory(self):
        # ProtectSystem=strict leaves only the StateDirectory writable, and
        # Pujo writes there: database, blobs/, tmp/ (uploads in progress).
        unit = self.unit()
        self.assertEqual(unit["ProtectSystem"], ["strict"])
        (state,) = unit["StateDirectory"]
        data_dirs = [v.split("=", 1)[1] for e in unit["Environment"] for v in e.split()
                     if v.startswith("PUJO_DATA_DIR=")]
        self.assertEqual(data_dirs, [f"/var/lib/{state}"])
        self.assertNotRegex((ROOT / "deploy" / "vm" / "pujo.env.example").read_text(),
                            r"(?m)^#?\s*PUJO_DATA_DIR=", "the unit sets PUJO_DATA_DIR")
        module = (ROOT / "nix" / "module.nix").read_text()
        self.assertIn('StateDirectory = "pujo";', module)
        self.assertIn('data_dir = "/var/lib/pujo";', module)

    def test_nginx_example_passes_uploads(self):
        conf = (ROOT / "deploy" / "vm" / "nginx-pujo.conf").read_text()
        directives = re.findall(r"(?m)^[ \t]*([a-z_0-9]+)[ \t]+([^;#\n]+);", conf)
        values = {}
        for k, v in directives:
            values.setdefault(k, []).append(v.strip())
        (size,) = values["client_max_body_size"]
        m = re.fullmatch(r"(\d+)([kmg]?)", size.lower())
        limit = int(m.group(1)) * {"": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}[m.group(2)]
        upload = int(config_of("production")["PUJO_MAX_UPLOAD_BYTES"])
        self.assertGreaterEqual(limit, upload + MULTIPART_OVERHEAD,
                                "nginx would refuse a photo Pujo accepts (413 from nginx)")
        self.assertEqual(values["proxy_request_buffering"], ["off"], "stream uploads to Pujo")
        self.assertEqual(values["proxy_pass"], ["http://127.0.0.1:8080"])
        self.assertIn("PUJO_TRUSTED_PROXIES=127.0.0.1/32,::1/128", conf)
        self.assertIn("$proxy_add_x_forwarded_for", conf)

    def test_backup_unit_runs_in_the_servers_sandbox(self):
        server = self.unit()
        backup = self.unit("pujo-backup.service")
        # Everything of pujo.service but what serving needs: its commands,
        # restarts and stop timing, the TLS credentials and the capability
        # to bind low ports (the backup has no capability at all).
        serving = {"Description", "Documentation", "Type", "ExecStartPre", "ExecStart", "Restart", "RestartSec", "KillSignal",
                   "TimeoutStopSec", "LimitNOFILE", "LoadCredential", "Environment", "CapabilityBoundingSet",
                   "AmbientCapabilities", "WantedBy"}
        for key, value in server.items():
            if key not in serving:
                self.assertEqual(backup.get(key), value, f"pujo-backup.service {key}= differs from pujo.service")
        self.assertEqual(backup["CapabilityBoundingSet"], [""])
        self.assertEqual(backup["AmbientCapabilities"], [""])
        data_dir = [e for e in server["Environment"] if e.startswith("PUJO_DATA_DIR=")]
        self.assertEqual([e for e in backup["Environment"] if e.startswith("PUJO_DATA_DIR=")], data_dir)
        # pujo.service's dynamic user is named after the unit: the backup
        # must be that user to read the data directory.
        self.assertNotIn("User", server)
        self.assertEqual(backup["User"], ["pujo"])
        self.assertEqual(backup["Type"], ["oneshot"])

    def test_backup_unit_backs_up_then_verifies(self):
        backup = self.unit("pujo-backup.service")
        target = "/var/backups/pujo"
        self.assertEqual(backup["ExecStart"], [
            f"/usr/local/bin/pujo backup --to {target} --keep 7",
            f"/usr/local/bin/pujo backup verify {target}",
        ])
        self.assertEqual(backup["ReadWritePaths"], [target], "ProtectSystem=strict: the target must be writable")
        (state,) = backup["StateDirectory"]
        self.assertFalse(target.startswith(f"/var/lib/{state}"), "a backup inside what it backs up")
        (prepare,) = backup["ExecStartPre"]
        self.assertTrue(prepare.startswith("+"), "the target is made as root: the dynamic user does not exist before")
        self.assertIn(target, prepare)

    def test_backup_timer_is_daily_and_catches_up(self):
        timer = self.unit("pujo-backup.timer")
        self.assertEqual(timer["OnCalendar"], ["daily"])
        self.assertEqual(timer["Persistent"], ["true"], "a run missed while the VM was off runs at boot")
        self.assertTrue(seconds(one(timer["RandomizedDelaySec"])) > 0)
        self.assertEqual(timer["Unit"], ["pujo-backup.service"])
        self.assertEqual(timer["WantedBy"], ["timers.target"])

    def test_nixos_module_makes_the_same_backup(self):
        module = (ROOT / "nix" / "module.nix").read_text()
        block = module[module.index("    backup = {"):module.index("  config = lib.mkIf cfg.enable")]
        defaults = dict(re.findall(r"(?s)\n      (enable|target|keep|calendar) = lib\.mkOption \{.*?default = ([^;]+);", block))
        self.assertEqual(defaults, {"enable": "true", "target": '"/var/backups/pujo"', "keep": "7",
                                    "calendar": '"daily"'})
        self.assertIn('(pujo "backup --to ${backupTarget} --keep ${toString cfg.backup.keep}")', module)
        self.assertIn('"${lib.getExe cfg.package} backup verify ${backupTarget}"', module)
        self.assertIn("systemd.timers.pujo-backup", module)
        self.assertIn("Persistent = true;", module)
        self.assertIn('RandomizedDelaySec = "1h";', module)


class TerraformStyle(unittest.TestCase):
    def test_modules_have_the_standard_files_and_typed_described_variables(self):
        dirs = [d for d in (TF / "modules").iterdir() if d.is_dir()] + [TF / "envs" / e for e in ENVS]
        for d in dirs:
            for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
                self.assertTrue((d / f).exists(), f"{d.relative_to(ROOT)}/{f}")
            for name, var in module_variables(d).items():
                self.assertIn("type", var, f"{d.name}: variable {name}")
                self.assertTrue(one(var.get("description", "")), f"{d.name}: variable {name}")
            for tf in d.glob("*.tf"):
                for name, out in blocks(load_hcl(tf), "output").items():
                    self.assertTrue(one(out.get("description", "")), f"{d.name}: output {name}")

    def test_versions_are_pinned(self):
        # The AWS provider only (no random, tls or http: none is mirrored
        # here, and none is needed), bounded to the majors tested: 5.100,
        # which scripts/check-infra.sh runs, up to 6.x.
        for versions in TF.rglob("versions.tf"):
            if ".terraform" in versions.parts:
                continue
            (tf,) = load_hcl(versions)["terraform"]
            self.assertRegex(one(tf["required_version"]), r">=\s*1\.\d+", versions)
            names = set()
            for providers in tf["required_providers"]:
                for name, spec in providers.items():
                    names.add(name)
                    self.assertEqual(one(spec)["version"], ">= 5.100, < 7.0", f"{versions}: {name}")
            self.assertEqual(names, {"aws"}, versions)

    def test_backend_is_s3_with_locking(self):
        for env in ENVS:
            (tf,) = load_hcl(TF / "envs" / env / "versions.tf")["terraform"]
            s3 = one(tf["backend"])["s3"]
            self.assertIs(one(s3["use_lockfile"]), True, env)
            self.assertIs(one(s3["encrypt"]), True, env)

    def test_eks_version_is_one_default_everywhere(self):
        module = one(module_variables(TF / "modules" / "eks")["kubernetes_version"]["default"])
        for env in ENVS:
            self.assertEqual(one(module_variables(TF / "envs" / env)["kubernetes_version"]["default"]),
                             module, env)
            self.assertEqual(env_value(env, stack_module("eks")["kubernetes_version"]), module, env)
        self.assertNotEqual(module, "1.28", "the seed's 1.28 is past end of support")

    def test_current_photos_are_never_expired(self):
        s3 = blocks(load_hcl(TF / "modules" / "s3" / "main.tf"), "resource")
        rules = s3[("aws_s3_bucket_lifecycle_configuration", "this")]["rule"]
        variables = module_variables(TF / "modules" / "s3")
        for rule in rules:
            prefixes = [one(f["prefix"]) for f in rule.get("filter", []) if "prefix" in f]
            if prefixes == ["partial/"]:
                # Unfinished resumable uploads (src/media/partial.rs), never a photo.
                self.assertEqual(one(rule["id"]), "expire-abandoned-partial-uploads")
                continue
            for exp in rule.get("expiration", []):
                self.assertNotIn("days", exp, f"rule {one(rule['id'])} would delete current photos")
                self.assertNotIn("date", exp, f"rule {one(rule['id'])} would delete current photos")
        transitions = [(resolve(t["days"], variables), one(t["storage_class"]))
                       for r in rules for t in r.get("transition", [])]
        self.assertEqual(transitions, [(90, "STANDARD_IA")])
        partial = lambda r: [one(f.get("prefix")) for f in r.get("filter", [])] == ["partial/"]
        noncurrent = [resolve(e["noncurrent_days"], variables)
                      for r in rules if not partial(r) for e in r.get("noncurrent_version_expiration", [])]
        self.assertEqual(noncurrent, [365], "replaced or deleted photos are kept a year")


class DisasterRecovery(unittest.TestCase):
    """The copies in a second region (terraform/modules/dr) hold everything
    Pujo keeps and nothing it throws away, with least privilege."""

    def dr(self, kind, name, file="s3.tf"):
        return blocks(load_hcl(TF / "modules" / "dr" / file), kind)[name]

    def test_replication_covers_what_pujo_keeps_and_not_partial_uploads(self):
        (prefixes,) = module_variables(TF / "modules" / "dr")["replicated_prefixes"]["default"]
        self.assertEqual(set(prefixes), keys_pujo_writes(),
                         "every prefix Pujo keeps photos under is replicated, and only those")
        self.assertFalse([p for p in prefixes if p.startswith("partial/") or "partial/".startswith(p)],
                         "partial/ holds unfinished resumable uploads, expired after two days: never replicated")
        (rule,) = self.dr("resource", ("aws_s3_bucket_replication_configuration", "photos"))["dynamic"]
        self.assertEqual(one(rule["rule"]["for_each"]), "${local.replication_rules}")
        content = one(rule["rule"]["content"])
        self.assertEqual(one(one(content["filter"])["prefix"]), "${rule.key}")
        self.assertEqual(one(one(content["delete_marker_replication"])["status"]), "Enabled")
        criteria = one(one(content["source_selection_criteria"])["sse_kms_encrypted_objects"])
        self.assertEqual(one(criteria["status"]), "Enabled", "S3 skips SSE-KMS objects (every photo) unless told")
        destination = one(content["destination"])
        self.assertEqual(one(one(destination["encryption_configuration"])["replica_kms_key_id"]), "${module.kms.key_arn}")

    def test_replication_role_is_least_privilege(self):
        doc = self.dr("data", ("aws_iam_policy_document", "replication"))
        statements = {one(st["sid"]): st for st in doc["statement"]}
        for sid, st in statements.items():
            resources = one(st["resources"])
            self.assertNotIn("*", resources if isinstance(resources, list) else [resources], sid)
            actions = one(st["actions"])
            self.assertFalse([a for a in (actions if isinstance(actions, list) else [actions]) if "*" in a], sid)
        per_prefix = r'\$\{\[for p in keys\(var\.replicated_prefixes\) : "\$\{%s\}/\$\{p\}\*"\]\}'
        self.assertRegex(one(statements["ReadSourceVersions"]["resources"]), per_prefix % r"var\.source_bucket_arn")
        self.assertRegex(one(statements["WriteReplicas"]["resources"]), per_prefix % r"module\.replica\.bucket_arn")
        self.assertEqual(one(statements["SourceConfiguration"]["resources"]), "${var.source_bucket_arn}")

        def via(st):
            return [one(c["values"]) for c in st["condition"] if one(c["variable"]) == "kms:ViaService"]

        self.assertEqual(one(statements["DecryptSource"]["actions"]), "kms:Decrypt")
        self.assertEqual(one(statements["DecryptSource"]["resources"]), "${var.source_kms_key_arn}")
        self.assertEqual(via(statements["DecryptSource"]), ["s3.${data.aws_region.primary.id}.amazonaws.com"])
        self.assertEqual(one(statements["EncryptReplicas"]["resources"]), "${module.kms.key_arn}")
        self.assertEqual(via(statements["EncryptReplicas"]), ["s3.${data.aws_region.dr.id}.amazonaws.com"])
        assume = self.dr("data", ("aws_iam_policy_document", "replication_assume"))
        principals = [(one(p["type"]), one(p["identifiers"])) for st in assume["statement"] for p in st["principals"]]
        self.assertEqual(principals, [("Service", "s3.amazonaws.com")], "S3 alone may assume the replication role")

    def test_production_copies_to_another_region_and_staging_does_not(self):
        for env in ENVS:
            variables = module_variables(TF / "envs" / env)
            region = one(variables["region"]["default"])
            dr_region = one(variables["dr_region"]["default"])
            if env == "production":
                self.assertTrue(dr_region, "production keeps copies in a second region")
                self.assertNotEqual(dr_region, region)
                self.assertEqual(one(variables["dr_backup_vault_lock"]["default"]), "compliance")
            else:
                self.assertEqual(dr_region, "", f"{env}: no DR copies of made-up data by default")
            self.assertEqual(one(stack_call(env)["providers"]), {"aws": "${aws}", "aws.dr": "${aws.dr}"}, env)
            self.assertEqual(one(stack_call(env)["dr_region"]), "${var.dr_region}", env)

    def test_dr_bucket_names_fit(self):
        for env in ENVS:
            name = one(module_variables(TF / "envs" / env)["name"]["default"])
            for n in (name, "a" * 32):
                # modules/dr: <name>-dr-assets-<account id>, and its -logs bucket.
                self.assertLessEqual(len(f"{n}-dr-assets-{'1' * 12}-logs"), 63, n)


class PlatformReview(unittest.TestCase):
    """The defects of the first-apply review stay fixed (docs/DEPLOYMENT.md)."""

    def test_rollouts_wait_for_the_alb_and_nodes_can_scale_down(self):
        for env in ENVS:
            ns = obj(env, "Namespace", "durga-puja")["metadata"]["labels"]
            self.assertEqual(ns.get("elbv2.k8s.aws/pod-readiness-gate-inject"), "enabled", env)
            pod = obj(env, "Deployment", "pujo")["spec"]["template"]
            local = {v["name"] for v in pod["spec"]["volumes"] if "emptyDir" in v}
            evict = pod["metadata"].get("annotations", {}).get(
                "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes", "")
            self.assertEqual(set(evict.split(",")) - {""}, local, f"{env}: emptyDirs the autoscaler may drop")

    def test_pod_https_goes_to_the_vpc_endpoints_only(self):
        for env in ENVS:
            np = obj(env, "NetworkPolicy", "pujo")
            https = {b["ipBlock"]["cidr"] for r in np["spec"]["egress"]
                     if any(p.get("port") == 443 for p in r.get("ports", []))
                     for b in r.get("to", []) if "ipBlock" in b}
            self.assertEqual(https, set(SEED_SUBNETS["private_subnet_cidrs"]), env)

    def test_alb_has_waf_and_access_logs(self):
        for env in ENVS:
            name = one(module_variables(TF / "envs" / env)["name"]["default"])
            ann = obj(env, "Ingress", "pujo")["metadata"]["annotations"]
            self.assertRegex(ann.get("alb.ingress.kubernetes.io/wafv2-acl-arn", ""),
                             rf"^arn:aws:wafv2:[a-z0-9-]+:\d{{12}}:regional/webacl/{re.escape(name)}/", env)
            attrs = dict(a.split("=", 1) for a in ann["alb.ingress.kubernetes.io/load-balancer-attributes"].split(","))
            self.assertEqual(attrs.get("access_logs.s3.enabled"), "true", env)
            self.assertEqual(attrs.get("access_logs.s3.bucket"), f"{name}-assets-{account_of(env)}-logs", env)
            self.assertEqual(attrs.get("access_logs.s3.prefix"), "alb", env)

    def test_monitoring_has_storage_receivers_and_no_default_password(self):
        for env in ENVS:
            text = subprocess.run(["kubectl", "kustomize", str(ARGO / "bootstrap" / env)],
                                  check=True, capture_output=True, text=True).stdout
            docs = [d for d in yaml.safe_load_all(text) if d]
            (sc,) = [d for d in docs if d["kind"] == "StorageClass"]
            self.assertEqual(sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"], "true")
            (kps,) = [d for d in docs if d["kind"] == "Application" and d["metadata"]["name"] == "kube-prometheus-stack"]
            values = kps["spec"]["source"]["helm"]["valuesObject"]
            for part in ("kubeScheduler", "kubeControllerManager"):
                self.assertIs(values[part]["enabled"], False, f"{env}: EKS does not expose {part}")
            am = values["alertmanager"]
            receivers = {r["name"]: r for r in am["config"]["receivers"]}
            self.assertIn(am["config"]["route"]["receiver"], receivers)
            self.assertTrue(receivers[am["config"]["route"]["receiver"]].get("sns_configs"), env)
            self.assertEqual(values["grafana"]["admin"]["existingSecret"], "grafana-admin", env)
            claims = [values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"],
                      am["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]]
            for claim in claims:
                self.assertEqual(claim["storageClassName"], sc["metadata"]["name"], env)
            self.assertEqual(values["grafana"]["persistence"]["storageClassName"], sc["metadata"]["name"], env)


class ArgoCD(unittest.TestCase):
    def test_applications_sync_automatically_and_pin_charts(self):
        for env in ENVS:
            text = subprocess.run(["kubectl", "kustomize", str(ARGO / "bootstrap" / env)],
                                  check=True, capture_output=True, text=True).stdout
            apps = [d for d in yaml.safe_load_all(text) if d and d["kind"] == "Application"]
            names = {a["metadata"]["name"] for a in apps}
            self.assertEqual(names, {f"pujo-{env}", "kube-prometheus-stack",
                                     "aws-load-balancer-controller", "external-secrets",
                                     "metrics-server", "cluster-autoscaler"})
            for a in apps:
                sp, src = a["spec"]["syncPolicy"], a["spec"]["source"]
                self.assertEqual(sp["automated"], {"prune": True, "selfHeal": True}, a["metadata"]["name"])
                self.assertIn("backoff", sp["retry"])
                if "chart" in src:
                    self.assertRegex(src["targetRevision"], r"^\d+\.\d+\.\d+$", src["chart"])
                    self.assertNotIn("REPLACE", yaml.safe_dump(src), src["chart"])
                else:
                    self.assertEqual(src["path"], f"deploy/kubernetes/overlays/{env}")
                    self.assertIn("CreateNamespace=true", sp["syncOptions"])


if __name__ == "__main__":
    unittest.main()
