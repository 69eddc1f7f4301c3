# The container image: the static binary, CA certificates and a passwd/group
# entry for the unprivileged user 65532 - nothing else (no shell, no libc).
#   nix build .#image && ./result | docker load
# CI streams it straight to the registry with skopeo.
{
  lib,
  dockerTools,
  runCommand,
  cacert,
  pujo,
  gitSha ? "unknown",
}:

let
  uid = "65532";
  # /etc/passwd and /etc/group so the process has a name, and /tmp and the
  # data dir exist (Kubernetes mounts emptyDirs there; plain `docker run`
  # gets writable directories owned by the user).
  rootfs = runCommand "pujo-image-root" { } ''
    mkdir -p $out/etc $out/tmp $out/var/lib/pujo
    echo 'pujo:x:${uid}:${uid}:Pujo:/var/lib/pujo:/sbin/nologin' > $out/etc/passwd
    echo 'pujo:x:${uid}:' > $out/etc/group
  '';
in
dockerTools.streamLayeredImage {
  name = "ghcr.io/pujo-app/pujo";
  tag = pujo.version;

  contents = [
    pujo
    cacert
    rootfs
  ];

  fakeRootCommands = ''
    chown -R ${uid}:${uid} ./var/lib/pujo
    chmod 1777 ./tmp
  '';
  enableFakechroot = false;

  config = {
    User = "${uid}:${uid}";
    WorkingDir = "/var/lib/pujo";
    Entrypoint = [ "${lib.getExe pujo}" ];
    Cmd = [ "serve" ];
    Env = [
      "PUJO_LISTEN=0.0.0.0:8080"
      "PUJO_ADMIN_LISTEN=0.0.0.0:9090"
      "PUJO_DATA_DIR=/var/lib/pujo"
      "PUJO_LOG_FORMAT=json"
      "SSL_CERT_FILE=${cacert}/etc/ssl/certs/ca-bundle.crt"
    ];
    ExposedPorts = {
      "8080/tcp" = { };
      "9090/tcp" = { };
    };
    Labels = {
      "org.opencontainers.image.title" = "pujo";
      "org.opencontainers.image.description" = "Photo-sharing site for Durga Puja";
      "org.opencontainers.image.source" = "https://github.com/pujo-app/pujo";
      "org.opencontainers.image.url" = "https://github.com/pujo-app/pujo";
      "org.opencontainers.image.version" = pujo.version;
      "org.opencontainers.image.revision" = gitSha;
      "org.opencontainers.image.licenses" = pujo.meta.license.spdxId;
    };
  };
}
