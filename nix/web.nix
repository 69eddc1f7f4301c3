# The React site (web/), built once by Nix and embedded into the binary
# through PUJO_WEB_DIST. importNpmLock reads web/package-lock.json directly,
# so there is no npmDepsHash to keep in sync.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_22,
}:

let
  root = ../web;
in
buildNpmPackage {
  pname = "pujo-web";
  version = (lib.importJSON (root + "/package.json")).version;

  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.difference root (
      lib.fileset.unions [
        (lib.fileset.maybeMissing (root + "/node_modules"))
        (lib.fileset.maybeMissing (root + "/dist"))
      ]
    );
  };

  nodejs = nodejs_22;
  npmDeps = importNpmLock { npmRoot = root; };
  npmConfigHook = importNpmLock.npmConfigHook;

  # `npm run build`: type-check and vite build into dist/.
  npmBuildScript = "build";

  installPhase = ''
    runHook preInstall
    cp -r dist $out
    runHook postInstall
  '';

  meta = {
    description = "Pujo's browser front end (built assets)";
    # The project license, from Cargo.toml.
    license = lib.getLicenseFromSpdxId (lib.importTOML ../Cargo.toml).package.license;
  };
}
