{
  description = "Pujo: a photo-sharing site for Durga Puja, shipped as one static binary";

  # The only input. flake.lock pins it; .github/workflows/flake-lock.yml
  # makes and refreshes it through a pull request (nixpkgs must be
  # downloadable), and CI fails on the default branch while it is missing.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  # This file only wires outputs; the recipes live in nix/.
  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # Shown by `pujo version` and in pujo_build_info{git_sha}.
      gitSha = self.shortRev or self.dirtyShortRev or "unknown";
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          web = pkgs.callPackage ./nix/web.nix { };
          # The site is plain files, so the static build reuses the native one.
          static = pkgs.pkgsStatic.callPackage ./nix/package.nix { inherit web gitSha; };
        in
        {
          default = pkgs.callPackage ./nix/package.nix { inherit web gitSha; };
          inherit web static;
          image = pkgs.callPackage ./nix/image.nix {
            pujo = static;
            inherit gitSha;
          };
        }
      );

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/pujo";
          meta.description = "Run the Pujo server (pujo serve)";
        };
      });

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.pujo.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };

      devShells = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/shell.nix { };
      });

      checks = forAllSystems (pkgs: {
        # Building runs the unit tests (cargo test --lib) in the sandbox.
        inherit (self.packages.${pkgs.stdenv.hostPlatform.system}) default static;
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-rfc-style);
    };
}
