terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 is the version mirrored offline on the project's machines; any
      # later 5.x works too. 6.x changed provider-level region handling, so it
      # is excluded until this stack is checked against it.
      version = ">= 5.100.0, < 6.0.0"
    }
  }

  # No backend block: state is local by default. For a shared account add a
  # backend.tf (e.g. `backend "s3" {}`) and pass -backend-config at init; see
  # README.md.
}
