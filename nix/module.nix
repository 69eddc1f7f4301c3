# NixOS module: services.pujo runs the Pujo server under a hardened
# systemd unit with a dynamic unprivileged user.
#
#   services.pujo = {
#     enable = true;
#     settings.listen = "0.0.0.0:443";
#     settings.redirect_listen = "0.0.0.0:80";
#     tls = {
#       certFile = "/var/lib/acme/pujo.example.org/fullchain.pem";
#       keyFile = "/var/lib/acme/pujo.example.org/key.pem";
#       group = "acme";   # may read the files; Pujo reloads them on renewal
#     };
#     environmentFile = "/run/secrets/pujo.env";   # PUJO_DATABASE_URL=... etc.
#     # Photos stay in /var/lib/pujo/blobs unless a bucket is set; for an
#     # S3-compatible server (Garage, MinIO, R2) with static keys:
#     # settings = {
#     #   s3_bucket = "pujo-photos";
#     #   s3_endpoint = "https://s3.example.internal:3900";
#     #   s3_region = "garage";
#     #   s3_path_style = true;
#     #   s3_access_key_id = "GK0123456789abcdef";
#     # };
#     # secretFiles.s3_secret_access_key = "/run/secrets/pujo-s3-secret";
#     # PostgreSQL on RDS (URL with sslmode=require): the CAs that verify it.
#     # settings.db_ca_file = "/etc/ssl/rds/us-east-1-bundle.pem";
#     # Redis shared by several machines (TLS), its AUTH password as a
#     # root-only file; unset, API responses and sessions are cached in
#     # process only:
#     # settings.redis_url = "rediss://cache.internal:6379";
#     # secretFiles.redis_password = "/run/secrets/pujo-redis-password";
#     # Behind nginx or HAProxy on this host: believe its X-Forwarded-For.
#     # settings.trusted_proxies = [ "127.0.0.1/32" "::1/128" ];
#     openFirewall = true;
#     # A daily backup (on by default) into /var/backups/pujo, the last 7
#     # kept; or into a bucket, with the AWS credential chain:
#     # backup.target = "s3://pujo-backups/photos.example.org";
#   };
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.pujo;

  # settings.admin_listen -> PUJO_ADMIN_LISTEN
  envName = name: "PUJO_" + lib.toUpper (lib.replaceStrings [ "-" ] [ "_" ] name);
  envValue =
    v:
    if lib.isBool v then
      lib.boolToString v
    else if lib.isList v then
      lib.concatStringsSep "," v
    else
      toString v;

  # secretFiles: each file reaches the unit as a systemd credential (read
  # by root at start, so it can stay root-only) and Pujo as PUJO_<NAME>_FILE.
  credentialName = name: lib.replaceStrings [ "_" ] [ "-" ] name;
  secretFileSettings = lib.mapAttrs' (
    n: _: lib.nameValuePair "${n}_file" "%d/${credentialName n}"
  ) cfg.secretFiles;

  tlsSettings = lib.optionalAttrs (cfg.tls.certFile != null) {
    tls = "files";
    tls_cert_path = cfg.tls.certFile;
    tls_key_path = cfg.tls.keyFile;
  };

  # Unset options (null, an empty list) leave Pujo's default. db_ca_file goes
  # on the command line instead (caFlag), like in the Kubernetes pod spec:
  # the flag is read the same by every Pujo that has the setting.
  environment = lib.mapAttrs' (n: v: lib.nameValuePair (envName n) (envValue v)) (
    lib.filterAttrs (n: v: v != null && v != [ ] && n != "db_ca_file") cfg.settings
    // tlsSettings
    // secretFileSettings
    // {
      data_dir = "/var/lib/pujo";
    }
  );

  caFlag = lib.optionalString (
    cfg.settings.db_ca_file != null
  ) " --db-ca-file ${lib.escapeShellArg (toString cfg.settings.db_ca_file)}";
  pujo = command: "${lib.getExe cfg.package} ${command}${caFlag}";

  portOf = addr: lib.toInt (lib.last (lib.splitString ":" addr));
  bindsPrivilegedPort = lib.any (a: a != null && a != "" && a != "off" && portOf a < 1024) [
    (cfg.settings.listen or null)
    (cfg.settings.redirect_listen or null)
    (cfg.settings.admin_listen or null)
  ];

  # What pujo and pujo-backup share: Pujo's settings, secrets and data
  # directory, under the same dynamic user (systemd gives the name "pujo"
  # one number for all its units), and the same sandbox.
  common = {
    EnvironmentFile = lib.mkIf (cfg.environmentFile != null) cfg.environmentFile;
    LoadCredential = lib.mkIf (cfg.secretFiles != { }) (
      lib.mapAttrsToList (n: f: "${credentialName n}:${f}") cfg.secretFiles
    );
    DynamicUser = true;
    User = "pujo";
    # /var/lib/pujo, the one writable place (ProtectSystem=strict): the
    # embedded database, blobs/ (photos unless settings.s3_bucket is set)
    # and tmp/ (uploads in progress, up to max_upload_bytes per file).
    StateDirectory = "pujo";
    StateDirectoryMode = "0750";
    WorkingDirectory = "/var/lib/pujo";
    UMask = "0077";
    NoNewPrivileges = true;

    ProtectSystem = "strict";
    ProtectHome = true;
    PrivateTmp = true;
    PrivateDevices = true;
    ProtectHostname = true;
    ProtectClock = true;
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectProc = "invisible";
    ProcSubset = "pid";
    RestrictAddressFamilies = [
      "AF_INET"
      "AF_INET6"
      "AF_UNIX"
    ];
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    RemoveIPC = true;
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged"
      "~@resources"
    ];
    SystemCallErrorNumber = "EPERM";
  };

  # services.pujo.backup: the server's settings without its TLS files,
  # which a backup never reads (as in deploy/vm, where they are set in
  # pujo.service alone), into a folder or s3://bucket/prefix.
  backupEnvironment = removeAttrs environment [
    "PUJO_TLS"
    "PUJO_TLS_CERT_PATH"
    "PUJO_TLS_KEY_PATH"
  ];
  backupToFolder = !(lib.hasPrefix "s3://" cfg.backup.target);
  backupTarget = lib.escapeShellArg cfg.backup.target;
  # The folder belongs to the service's user, as the data directory does. A
  # dynamic user exists only while one of its units runs, so the folder is
  # made as root before the backup and given the data directory's owner;
  # when that owner changed (a dynamic user's number may), for the whole
  # tree, as systemd does for StateDirectory.
  prepareBackupFolder = pkgs.writeShellScript "pujo-backup-folder" ''
    set -eu
    owner=$(${pkgs.coreutils}/bin/stat -L -c %u:%g /var/lib/pujo)
    ${pkgs.coreutils}/bin/install -d -m 0700 ${backupTarget}
    if [ "$(${pkgs.coreutils}/bin/stat -c %u:%g ${backupTarget})" != "$owner" ]; then
      ${pkgs.coreutils}/bin/chown -R "$owner" ${backupTarget}
    fi
  '';
in
{
  options.services.pujo = {
    enable = lib.mkEnableOption "Pujo, the Durga Puja photo-sharing site";

    package = lib.mkOption {
      type = lib.types.package;
      description = "The pujo package (the flake sets its own).";
    };

    settings = lib.mkOption {
      type = lib.types.submodule {
        freeformType = lib.types.attrsOf (
          lib.types.oneOf [
            lib.types.str
            lib.types.int
            lib.types.bool
          ]
        );
        options = {
          listen = lib.mkOption {
            type = lib.types.str;
            default = "127.0.0.1:8080";
            description = "PUJO_LISTEN: public HTTP/HTTPS listener. Ports below 1024 get CAP_NET_BIND_SERVICE.";
          };
          admin_listen = lib.mkOption {
            type = lib.types.str;
            default = "127.0.0.1:9090";
            description = "PUJO_ADMIN_LISTEN: /metrics, /health, /ready; \"off\" disables it.";
          };
          db_ca_file = lib.mkOption {
            type = lib.types.nullOr lib.types.path;
            default = null;
            example = "/etc/ssl/rds/us-east-1-bundle.pem";
            description = ''
              PUJO_DB_CA_FILE (passed as --db-ca-file): PEM CA certificates that
              sign the PostgreSQL server's certificate. With sslmode=require in
              the URL Pujo verifies the server's chain and host name, against the
              system's roots when this is null. Amazon RDS needs its region's
              bundle (https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem),
              which no system trusts. The file must be readable by the service's
              dynamic user: a store path, or a world-readable file outside
              /etc/pujo (the bundle is public).
            '';
          };
          trusted_proxies = lib.mkOption {
            type = lib.types.listOf lib.types.str;
            default = [ ];
            example = [
              "127.0.0.1/32"
              "::1/128"
            ];
            description = ''
              PUJO_TRUSTED_PROXIES: networks (CIDRs) of reverse proxies whose
              X-Forwarded-For names the client. Leave it empty when Pujo faces
              the internet itself; behind nginx or HAProxy on the same host, the
              loopback addresses. The log-in and registration limits count per
              client address, so behind a proxy without this every client looks
              like the proxy; trusting more than the proxies lets anyone choose
              their address.
            '';
          };
        };
      };
      default = { };
      example = {
        listen = "0.0.0.0:443";
        redirect_listen = "0.0.0.0:80";
        log = "info";
        max_body_bytes = 20971520;
      };
      description = ''
        Pujo settings, one attribute per setting without the PUJO_ prefix
        (`admin_listen` becomes PUJO_ADMIN_LISTEN). See the configuration table
        in README.md. Secrets (s3_secret_access_key, database_url,
        redis_password, and redis_url if it holds a password) belong in
        {option}`services.pujo.secretFiles` or
        {option}`services.pujo.environmentFile`, not here: the Nix store is
        world-readable. PUJO_DATA_DIR is fixed to the unit's state directory,
        /var/lib/pujo; photos go to its blobs/ folder unless s3_bucket is set.
      '';
    };

    secretFiles = lib.mkOption {
      type = lib.types.attrsOf lib.types.path;
      default = { };
      example = {
        s3_secret_access_key = "/run/secrets/pujo-s3-secret";
        database_url = "/run/secrets/pujo-database-url";
        redis_password = "/run/secrets/pujo-redis-password";
      };
      description = ''
        Settings read from files, one attribute per setting without the PUJO_
        prefix, for secrets kept as files (sops-nix, agenix): the file holds
        the value. Each is handed to the unit as a systemd credential (read
        by root at start, so the file may stay readable by root only) and to
        Pujo as PUJO_<NAME>_FILE. Pujo reads them at start: restart the
        service after changing one. Use these paths as strings, not Nix
        paths, so the secrets never enter the Nix store.
      '';
    };

    environmentFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/run/secrets/pujo.env";
      description = ''
        File of PUJO_*=value lines read by systemd at start, for secrets such as
        PUJO_DATABASE_URL, PUJO_S3_SECRET_ACCESS_KEY and PUJO_REDIS_PASSWORD.
        Keep it out of the Nix store.
      '';
    };

    tls = {
      certFile = lib.mkOption {
        type = lib.types.nullOr lib.types.path;
        default = null;
        description = "PEM certificate chain. Setting it (with keyFile) turns on PUJO_TLS=files; Pujo reloads renewed files without a restart.";
      };
      keyFile = lib.mkOption {
        type = lib.types.nullOr lib.types.path;
        default = null;
        description = "PEM private key matching certFile.";
      };
      group = lib.mkOption {
        type = lib.types.nullOr lib.types.str;
        default = null;
        example = "acme";
        description = "Group allowed to read certFile and keyFile (e.g. the security.acme certificate's group); added as a supplementary group.";
      };
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the public listener's port (and the redirect listener's) in the firewall. The admin port stays closed.";
    };

    backup = {
      enable = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = ''
          A daily `pujo backup` of the running site (unit pujo-backup, timer
          pujo-backup.timer): the database (SQLite through its online backup,
          or a dump of Pujo's tables from PostgreSQL) and every photo, then
          `pujo backup verify` of the newest backup. docs/OPERATIONS.md,
          "Backups and restores", has the restore drill.
        '';
      };
      target = lib.mkOption {
        type = lib.types.str;
        default = "/var/backups/pujo";
        example = "s3://pujo-backups/photos.example.org";
        description = ''
          Where backups go: an absolute path (better on another disk than
          /var/lib/pujo), or s3://bucket/prefix, reached with the AWS
          credential chain (an EC2 instance profile; or AWS_* variables,
          e.g. in systemd.services.pujo-backup.serviceConfig.EnvironmentFile).
          Photos are stored once, by content, and shared by all backups.
        '';
      };
      keep = lib.mkOption {
        type = lib.types.ints.positive;
        default = 7;
        description = "Complete backups kept (`--keep`); older ones, and photos no kept backup names, are removed.";
      };
      calendar = lib.mkOption {
        type = lib.types.str;
        default = "daily";
        example = "*-*-* 21:30:00 UTC";
        description = "When the backup runs (systemd OnCalendar=), up to an hour later at random; a run missed while the machine was off runs at the next boot.";
      };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = (cfg.tls.certFile == null) == (cfg.tls.keyFile == null);
        message = "services.pujo.tls: set both certFile and keyFile, or neither.";
      }
      {
        assertion = !(cfg.settings ? data_dir);
        message = "services.pujo.settings.data_dir is fixed to /var/lib/pujo (the unit's StateDirectory).";
      }
      {
        assertion = lib.all (n: !(cfg.settings ? ${n})) (lib.attrNames cfg.secretFiles);
        message = "services.pujo: a setting is either in settings or in secretFiles, not both.";
      }
      {
        assertion = lib.hasPrefix "/" cfg.backup.target || lib.hasPrefix "s3://" cfg.backup.target;
        message = "services.pujo.backup.target is an absolute path or s3://bucket/prefix.";
      }
      {
        assertion = !(lib.hasPrefix "/var/lib/pujo" cfg.backup.target);
        message = "services.pujo.backup.target must not be inside the data directory it backs up.";
      }
    ];

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall (
      [ (portOf cfg.settings.listen) ]
      ++ lib.optional (cfg.settings ? redirect_listen) (portOf cfg.settings.redirect_listen)
    );

    systemd.services.pujo = {
      description = "Pujo photo-sharing site";
      documentation = [ "https://github.com/pujo-app/pujo/blob/main/docs/DEPLOYMENT.md" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      inherit environment;

      serviceConfig = common // {
        # Fails fast, with one line naming the bad setting, before serving.
        ExecStartPre = [
          (pujo "config")
          (pujo "migrate")
        ];
        ExecStart = pujo "serve";
        Restart = "on-failure";
        RestartSec = "2s";
        # SIGTERM: Pujo stops accepting after PUJO_SHUTDOWN_DELAY and drains
        # for at most PUJO_DRAIN_TIMEOUT (25 s by default).
        KillSignal = "SIGTERM";
        TimeoutStopSec = "45s";
        LimitNOFILE = 65536;
        SupplementaryGroups = lib.optional (cfg.tls.group != null) cfg.tls.group;

        # Only the capability to bind 443/80, and only when a listener needs it.
        CapabilityBoundingSet = lib.optionals bindsPrivilegedPort [ "CAP_NET_BIND_SERVICE" ];
        AmbientCapabilities = lib.optionals bindsPrivilegedPort [ "CAP_NET_BIND_SERVICE" ];
        PrivateUsers = !bindsPrivilegedPort;
      };
    };

    # The daily backup: the same settings, user, data directory and sandbox,
    # no capability at all, the CPU and the disk only when the site leaves
    # them idle (deploy/vm/pujo-backup.service is the same unit).
    systemd.services.pujo-backup = lib.mkIf cfg.backup.enable {
      description = "Pujo backup to ${cfg.backup.target}";
      documentation = [ "https://github.com/pujo-app/pujo/blob/main/docs/OPERATIONS.md" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      environment = backupEnvironment;

      serviceConfig = common // {
        Type = "oneshot";
        ExecStartPre = lib.optional backupToFolder "+${prepareBackupFolder}";
        ExecStart = [
          (pujo "backup --to ${backupTarget} --keep ${toString cfg.backup.keep}")
          "${lib.getExe cfg.package} backup verify ${backupTarget}"
        ];
        ReadWritePaths = lib.optional backupToFolder cfg.backup.target;
        # A first backup copies every photo, later ones only new photos;
        # stopped at this age, before the next day's run is due.
        TimeoutStartSec = "20h";
        Nice = 10;
        IOSchedulingClass = "idle";
        CapabilityBoundingSet = "";
        PrivateUsers = true;
      };
    };

    systemd.timers.pujo-backup = lib.mkIf cfg.backup.enable {
      description = "Daily Pujo backup";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.backup.calendar;
        RandomizedDelaySec = "1h";
        Persistent = true;
      };
    };
  };
}
