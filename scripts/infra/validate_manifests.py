#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests (a YAML stream on stdin) against the
OpenAPI schemas of one Kubernetes version, strictly (unknown fields fail).

Every object must either validate against the built-in schemas shipped with
kubernetes-validate, or be of a custom resource kind listed in CRD_KINDS on
purpose (their schemas come with the add-ons, which are not available offline).
Any other kind fails: nothing is skipped silently.

    kubectl kustomize deploy/kubernetes/overlays/production \
      | validate_manifests.py --kubernetes-version 1.35
"""
import argparse
import sys

import kubernetes_validate
import kubernetes_validate.utils as kv
import yaml

# Custom resources we use on purpose, with the add-on that defines them.
CRD_KINDS = {
    ("external-secrets.io/v1", "ExternalSecret"): "external-secrets",
    ("external-secrets.io/v1", "SecretStore"): "external-secrets",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "kube-prometheus-stack",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "kube-prometheus-stack",
    ("argoproj.io/v1alpha1", "Application"): "argo-cd",
    ("argoproj.io/v1alpha1", "AppProject"): "argo-cd",
}


def check_crd(doc):
    """The minimum a custom resource needs to be applied at all."""
    problems = []
    meta = doc.get("metadata") or {}
    if not meta.get("name"):
        problems.append("metadata.name missing")
    if not isinstance(doc.get("spec"), dict) or not doc["spec"]:
        problems.append("spec missing or empty")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--label", default="stdin", help="name used in messages")
    args = parser.parse_args()

    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    if not docs:
        print(f"{args.label}: no objects rendered", file=sys.stderr)
        return 1
    failures = 0
    builtin = crds = 0
    for doc in docs:
        api, kind = doc.get("apiVersion"), doc.get("kind")
        name = f"{kind}/{(doc.get('metadata') or {}).get('name')}"
        if (api, kind) in CRD_KINDS:
            problems = check_crd(doc)
            crds += 1
            for p in problems:
                failures += 1
                print(f"{args.label}: {name} ({api}): {p}", file=sys.stderr)
            continue
        try:
            kubernetes_validate.validate(doc, args.kubernetes_version, strict=True)
            builtin += 1
        except kv.SchemaNotFoundError as e:
            failures += 1
            print(f"{args.label}: {name}: {e.message} - neither a built-in kind of "
                  f"Kubernetes {args.kubernetes_version} nor a custom resource listed in "
                  f"CRD_KINDS", file=sys.stderr)
        except kv.ValidationError as e:
            failures += 1
            path = ".".join(str(p) for p in e.path)
            print(f"{args.label}: {name}: {path}: {e.message}", file=sys.stderr)
    print(f"{args.label}: {builtin} objects valid for Kubernetes {args.kubernetes_version} "
          f"(strict), {crds} custom resources of known CRDs, {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
