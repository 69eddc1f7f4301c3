#!/usr/bin/env python3
"""Every environment the deployment gives Pujo is one `pujo config` accepts.

    check_pujo_env.py PUJO_BINARY RENDERED_PRODUCTION_YAML

Runs `env -i <vars> PUJO_BINARY config` (exit 0 expected) for:
  - the Deployment's container: its literal env plus every key of the
    ConfigMaps it loads with envFrom (the rendered production overlay);
  - the migration Job's container, the same way;
  - the container image's Env from nix/image.nix;
  - the VM unit deploy/vm/pujo.service: its Environment= lines (%d, the
    credentials directory, as systemd would expand it) plus the example
    environment file deploy/vm/pujo.env.example.
`pujo config` rejects unknown PUJO_* variables and invalid values, so a
setting the binary does not know yet can never reach a pod.
"""
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def container_env(docs, kind, name):
    by_key = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    obj = by_key[(kind, name)]
    spec = obj["spec"]["template"]["spec"]
    envs = []
    for c in spec["containers"]:
        env = {}
        for src in c.get("envFrom", []):
            if "configMapRef" in src:
                cm = by_key[("ConfigMap", src["configMapRef"]["name"])]
                env.update({k: str(v) for k, v in cm.get("data", {}).items()})
            else:
                raise SystemExit(f"{kind}/{name}: envFrom {src} cannot be checked offline")
        for e in c.get("env", []):
            if "value" not in e:
                raise SystemExit(f"{kind}/{name}: env {e['name']} is not a literal value")
            env[e["name"]] = str(e["value"])
        envs.append((f"{kind}/{name} container {c['name']}", env))
    return envs


def image_env():
    text = (ROOT / "nix" / "image.nix").read_text()
    block = re.search(r"Env = \[(.*?)\];", text, re.S).group(1)
    pairs = re.findall(r'"(PUJO_[A-Z_]+)=([^"]*)"', block)
    if not pairs:
        raise SystemExit("nix/image.nix: no PUJO_* entries found in Env")
    return {k: v for k, v in pairs}


def env_file(path):
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            env[k] = v
    return env


def unit_env(path):
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("Environment="):
            for pair in line[len("Environment="):].split():
                k, _, v = pair.partition("=")
                env[k] = v.replace("%d", "/run/credentials/pujo.service")
    return env


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    binary, rendered = sys.argv[1], sys.argv[2]
    docs = [d for d in yaml.safe_load_all(Path(rendered).read_text()) if d]
    cases = container_env(docs, "Deployment", "pujo") + container_env(docs, "Job", "pujo-migrate")
    cases.append(("nix/image.nix Env", image_env()))
    vm = env_file(ROOT / "deploy" / "vm" / "pujo.env.example")
    vm.update(unit_env(ROOT / "deploy" / "vm" / "pujo.service"))
    cases.append(("deploy/vm/pujo.service + pujo.env.example", vm))
    failed = 0
    for label, env in cases:
        proc = subprocess.run(["env", "-i", *[f"{k}={v}" for k, v in sorted(env.items())],
                               binary, "config"], capture_output=True, text=True)
        if proc.returncode == 0:
            print(f"ok: {label}: `pujo config` accepts {len(env)} settings")
        else:
            failed += 1
            print(f"FAIL: {label}: `pujo config` exited {proc.returncode}: "
                  f"{(proc.stderr or proc.stdout).strip()}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
