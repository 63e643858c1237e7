# ---------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "ap-south-1"
}

variable "name_prefix" {
  description = "Prefix for every resource name (table, queue, functions, SSM parameter paths). Lowercase letters, digits and hyphens."
  type        = string
  default     = "webhooks"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource (merged into the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "local_endpoint" {
  description = "Local AWS emulator URL (e.g. http://127.0.0.1:5000 for moto's server). Test use only: leave null for a real account. When set, every service endpoint points there and credential/account look-ups are skipped."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

variable "package_dir" {
  description = "Directory holding the Lambda packages as <package_dir>/<function>/bootstrap.zip (the layout `cargo lambda build --release --arm64 --output-format zip` writes to target/lambda). Relative paths are relative to the working directory Terraform runs in; the default assumes infra/ as working directory."
  type        = string
  default     = "../target/lambda"
}

variable "architecture" {
  description = "Lambda instruction set: arm64 (default; Graviton is cheaper per ms) or x86_64. Must match the packages' build target."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_mb" {
  description = "Memory (MB) of each webhook function. 256 MB comes from measurement (docs/performance.md): CPU scales with memory and 256 MB keeps cold start and p99 latency inside budget at the lowest cost per request."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Timeout of each webhook function. 10 s comes from measurement (docs/performance.md): a delivery takes tens of ms; 10 s leaves room for SDK retries against a throttled dependency while staying well below the providers' own webhook timeouts."
  type        = number
  default     = 10
}

variable "reserved_concurrency" {
  description = "Optional reserved concurrency per function name (e.g. { smartflo = 50 }). Functions not listed use the account's unreserved pool."
  type        = map(number)
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the functions' and API access log groups, in days."
  type        = number
  default     = 30
}

variable "max_body_bytes" {
  description = "MAX_BODY_BYTES for every function: larger bodies get 413."
  type        = number
  default     = 262144
}

variable "event_retention_days" {
  description = "EVENT_RETENTION_DAYS: stored events expire (DynamoDB TTL on expires_at) after this many days."
  type        = number
  default     = 90
}

variable "default_phone_region" {
  description = "DEFAULT_PHONE_REGION: ISO country of numbers that arrive without a country code."
  type        = string
  default     = "IN"
}

variable "rust_log" {
  description = "RUST_LOG filter for every function."
  type        = string
  default     = "info"
}

variable "smartflo_utc_offset" {
  description = "SMARTFLO_UTC_OFFSET: UTC offset of the local times Smartflo sends without a zone."
  type        = string
  default     = "+05:30"
}

variable "enable_reconciler" {
  description = "Deploy the scheduled reconciler function (re-sends callback tasks left pending). Needs target/lambda/reconciler/bootstrap.zip. Turn off only if callbacks may wait for provider redeliveries."
  type        = bool
  default     = true
}

variable "reconciler_schedule" {
  description = "EventBridge schedule of the reconciler. Every minute: SQS FIFO deduplicates a re-send only within 5 minutes of the first send, so a pending task must be retried well inside that window."
  type        = string
  default     = "rate(1 minute)"
}

# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second allowed on each route of the HTTP API stage."
  type        = number
  default     = 100
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests allowed on each route of the HTTP API stage."
  type        = number
  default     = 200
}

# ---------------------------------------------------------------------------
# Storage and queue
# ---------------------------------------------------------------------------

variable "deletion_protection" {
  description = "DynamoDB deletion protection on the events table. Keep true in any real account; the emulator test turns it off to destroy."
  type        = bool
  default     = true
}

variable "callback_visibility_timeout_seconds" {
  description = "Visibility timeout of the callback queue: how long a consumer has to process a task before another receive may see it."
  type        = number
  default     = 60
}

variable "create_saved_queries" {
  description = "Create the saved CloudWatch Logs Insights queries. Always true in a real account; infra/test.sh sets it false because moto does not implement PutQueryDefinition."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm the subscription). Other subscriptions (PagerDuty, Slack) can be attached to the alarm_topic_arn output."
  type        = list(string)
  default     = []
}

variable "alarm_api_5xx_percent" {
  description = "Alarm when more than this percentage of API requests answer 5xx over 5 minutes (with at least 10 requests)."
  type        = number
  default     = 5
}

variable "alarm_auth_failures" {
  description = "Alarm when one provider's AuthFailures exceed this count in 5 minutes."
  type        = number
  default     = 20
}

variable "alarm_oldest_task_age_seconds" {
  description = "Alarm when the oldest callback task has waited longer than this (seconds) on the queue."
  type        = number
  default     = 900
}

variable "enable_campaign" {
  description = "Deploy the Truecaller Verified Campaign push (functions/truecaller-campaign), fed by the events table's stream. Needs the Org ID, the endpoint, templates, and the org token in SSM (/<prefix>/truecaller-campaign/org-token)."
  type        = bool
  default     = false
}

variable "truecaller_campaign_url" {
  description = "Truecaller's Verified Campaign webhook endpoint (TRUECALLER_CAMPAIGN_URL), https."
  type        = string
  default     = ""
}

variable "truecaller_org_id" {
  description = "The business's Truecaller Org ID (X-Org-ID header)."
  type        = string
  default     = ""
}

variable "campaign_templates_json" {
  description = "CAMPAIGN_TEMPLATES: JSON object of campaign templates keyed \"provider:reason\" (\"*\" allowed); see docs/campaign.md. Validated at cold start."
  type        = string
  default     = "{}"
}

variable "operator_trusted_principals" {
  description = "IAM principals (ARNs of users, roles or the account root) allowed to assume the on-call role <prefix>-webhook-ops, with MFA. Empty (default): no role is created; attach the operator_policy_arn output to your on-call group or SSO permission set instead."
  type        = list(string)
  default     = []
}
