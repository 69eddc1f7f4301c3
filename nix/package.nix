# The pujo binary. Called with pkgs for a native build and with
# pkgs.pkgsStatic for the fully static musl build that goes into the image.
{
  lib,
  stdenv,
  rustPlatform,
  cmake,
  nasm,
  perl,
  pkg-config,
  web,
  gitSha ? "unknown",
}:

let
  root = ../.;
  cargoToml = lib.importTOML (root + "/Cargo.toml");
in
rustPlatform.buildRustPackage {
  pname = "pujo";
  inherit (cargoToml.package) version;

  # Only what cargo needs: a change in docs/ or deploy/ does not rebuild.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/Cargo.toml")
      (root + "/Cargo.lock")
      (root + "/build.rs")
      (root + "/src")
      (lib.fileset.maybeMissing (root + "/migrations"))
      (lib.fileset.maybeMissing (root + "/tests"))
      # Cargo.toml may name examples and benches; the manifest must resolve.
      (lib.fileset.maybeMissing (root + "/examples"))
      (lib.fileset.maybeMissing (root + "/benches"))
    ];
  };

  cargoLock.lockFile = root + "/Cargo.lock";

  # aws-lc-sys (rustls' crypto provider) and mozjpeg-sys (the JPEG decoder,
  # libjpeg-turbo) build C code: compiler from stdenv, plus cmake and perl, and
  # nasm for libjpeg-turbo's SIMD.
  nativeBuildInputs = [
    cmake
    nasm
    perl
    pkg-config
  ];
  # cmake is for aws-lc-sys only; cargo drives the build.
  dontUseCmakeConfigure = true;

  env = {
    # build.rs embeds this prebuilt site instead of running npm.
    PUJO_WEB_DIST = "${web}";
    PUJO_GIT_SHA = gitSha;
  };

  # The integration tests (tests/) start real PostgreSQL, Redis and S3
  # servers; the sandbox has none. Unit tests run.
  cargoTestFlags = [ "--lib" ];

  meta = {
    description = "Photo-sharing site for Durga Puja: one binary serving the site and the JSON API";
    homepage = "https://github.com/pujo-app/pujo";
    # Follows Cargo.toml.
    license = lib.getLicenseFromSpdxId cargoToml.package.license;
    mainProgram = "pujo";
    platforms = lib.platforms.linux;
  };
}
