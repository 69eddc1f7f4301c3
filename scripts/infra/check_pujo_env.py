#!/usr/bin/env python3
"""Every environment the deployment gives Pujo is one `pujo config` accepts.

    check_pujo_env.py PUJO_BINARY RENDERED_PRODUCTION_YAML

Runs `env -i <vars> PUJO_BINARY config <flags>` (exit 0 expected) for:
  - the Deployment's container: its literal env plus every key of the
    ConfigMaps it loads with envFrom (the rendered production overlay), and
    the setting flags of its args (what follows the subcommand, such as
    `--db-ca-file`);
  - the migration Job's container, the same way;
  - the container image's Env from nix/image.nix;
  - the VM unit deploy/vm/pujo.service: its Environment= lines (%d, the
    credentials directory, as systemd would expand it) plus the example
    environment file deploy/vm/pujo.env.example;
  - the same with the example's "Photos" section uncommented (an
    S3-compatible server with static keys), and with its "Database" and
    "Redis" sections uncommented (PostgreSQL and a shared Redis over TLS
    with a password), so the examples an operator copies are ones Pujo
    takes.
`pujo config` rejects unknown PUJO_* variables and invalid values, so a
setting the binary does not know yet can never reach a pod.

A `PUJO_X_FILE` variable names a file Pujo reads PUJO_X from: in a pod, a
mounted Secret that does not exist here. Each is pointed at a temporary
file holding a harmless dummy value of the right shape (DUMMY_SECRETS), so
`pujo config` still reads and validates the setting. A *_FILE variable with
no dummy here fails the check: add one of the shape Pujo expects.
PUJO_DB_CA_FILE is a setting of its own (a path), not the file form of a
PUJO_DB_CA, and is passed through as it is.
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Stand-ins for the values behind PUJO_*_FILE, shaped like the real ones.
DUMMY_SECRETS = {
    "PUJO_DATABASE_URL": "postgres://pujo:dummy@127.0.0.1:5432/pujo",
    "PUJO_REDIS_PASSWORD": "dummy",
    "PUJO_S3_SECRET_ACCESS_KEY": "dummy-secret-access-key",
}

# Settings whose own name ends in _FILE: paths Pujo opens itself, not the
# `PUJO_X_FILE` form of a setting PUJO_X.
PATH_SETTINGS = {"PUJO_DB_CA_FILE"}

# The subcommands a pod may run; the flags after them are settings that
# `pujo config` takes as well.
SUBCOMMANDS = {"serve", "migrate"}


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
        args = [str(a) for a in c.get("args", [])]
        if not args or args[0] not in SUBCOMMANDS or c.get("command"):
            raise SystemExit(f"{kind}/{name}: container {c['name']} must run the image's pujo with "
                             f"args [{' | '.join(sorted(SUBCOMMANDS))}, --setting, value, ...], "
                             f"not command {c.get('command')} args {args}")
        envs.append((f"{kind}/{name} container {c['name']}", env, args[1:]))
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


def commented_section(path, heading):
    """The `# PUJO_X=value` example lines of one `# --- heading` section of
    an env file, uncommented."""
    env, inside = {}, False
    for line in path.read_text().splitlines():
        if line.startswith("# ---"):
            inside = line[len("# ---"):].strip().startswith(heading)
            continue
        m = re.fullmatch(r"# (PUJO_[A-Z0-9_]+)=(.*)", line) if inside else None
        if m:
            env[m.group(1)] = m.group(2)
    return env


def unit_env(path):
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("Environment="):
            for pair in line[len("Environment="):].split():
                k, _, v = pair.partition("=")
                env[k] = v.replace("%d", "/run/credentials/pujo.service")
    return env


def with_dummy_files(env, tmp, label):
    """env with every PUJO_*_FILE pointed at a file holding a dummy value."""
    out = dict(env)
    for name, path in env.items():
        if not (name.startswith("PUJO_") and name.endswith("_FILE")) or name in PATH_SETTINGS:
            continue
        setting = name[:-len("_FILE")]
        if setting not in DUMMY_SECRETS:
            raise SystemExit(f"{label}: {name}={path}: no dummy value for {setting} in "
                             f"scripts/infra/check_pujo_env.py DUMMY_SECRETS")
        dummy = Path(tmp) / label.replace("/", "_").replace(" ", "_") / setting
        dummy.parent.mkdir(parents=True, exist_ok=True)
        # A trailing newline, as a Secret written by `echo` would have.
        dummy.write_text(DUMMY_SECRETS[setting] + "\n")
        out[name] = str(dummy)
    return out


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    binary, rendered = sys.argv[1], sys.argv[2]
    docs = [d for d in yaml.safe_load_all(Path(rendered).read_text()) if d]
    cases = container_env(docs, "Deployment", "pujo") + container_env(docs, "Job", "pujo-migrate")
    cases.append(("nix/image.nix Env", image_env(), []))
    vm = env_file(ROOT / "deploy" / "vm" / "pujo.env.example")
    vm.update(unit_env(ROOT / "deploy" / "vm" / "pujo.service"))
    cases.append(("deploy/vm/pujo.service + pujo.env.example", vm, []))
    photos = commented_section(ROOT / "deploy" / "vm" / "pujo.env.example", "Photos")
    if "PUJO_S3_BUCKET" not in photos:
        raise SystemExit("deploy/vm/pujo.env.example: no S3 example in its \"# --- Photos\" section")
    cases.append(("deploy/vm/pujo.env.example with its Photos example", {**vm, **photos}, []))
    redis = commented_section(ROOT / "deploy" / "vm" / "pujo.env.example", "Redis")
    if "PUJO_REDIS_URL" not in redis:
        raise SystemExit("deploy/vm/pujo.env.example: no Redis example in its \"# --- Redis\" section")
    database = commented_section(ROOT / "deploy" / "vm" / "pujo.env.example", "Database")
    cases.append(("deploy/vm/pujo.env.example with its Database and Redis examples",
                  {**vm, **database, **redis}, []))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="pujo-env-") as tmp:
        for label, env, flags in cases:
            run_env = with_dummy_files(env, tmp, label)
            files = sorted(k for k in env if run_env[k] != env[k])
            proc = subprocess.run(["env", "-i", *[f"{k}={v}" for k, v in sorted(run_env.items())],
                                   binary, "config", *flags], capture_output=True, text=True)
            note = f" ({', '.join(files)} read from dummy files)" if files else ""
            if flags:
                note += f" (flags: {' '.join(flags)})"
            if proc.returncode == 0:
                print(f"ok: {label}: `pujo config` accepts {len(env)} settings{note}")
            else:
                failed += 1
                print(f"FAIL: {label}: `pujo config` exited {proc.returncode}{note}: "
                      f"{(proc.stderr or proc.stdout).strip()}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
