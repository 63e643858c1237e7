variable "function_name" {
  description = "Full Lambda function name (also names its role, log group and alarms)."
  type        = string
}

variable "package_file" {
  description = "Path of the function's zip package (bootstrap at its root, as cargo lambda builds it)."
  type        = string
}

variable "architecture" {
  description = "Lambda instruction set: arm64 or x86_64."
  type        = string
  default     = "arm64"
}

variable "memory_mb" {
  description = "Function memory in MB."
  type        = number
}

variable "timeout_seconds" {
  description = "Function timeout in seconds."
  type        = number
}

variable "reserved_concurrency" {
  description = "Reserved concurrency, or null to use the account's unreserved pool."
  type        = number
  default     = null
}

variable "environment" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the function's log group."
  type        = string
}

variable "policy_json" {
  description = "IAM policy document (JSON) with the function's data permissions (table, queue, parameter, key). Logs and X-Ray permissions are added by the module."
  type        = string
}

variable "api_id" {
  description = "ID of the API Gateway HTTP API to attach routes to; required when routes is not empty, null for a function without HTTP routes (e.g. a scheduled one)."
  type        = string
  default     = null
}

variable "api_execution_arn" {
  description = "Execution ARN of the HTTP API (scopes the invoke permission to this API's routes); required with api_id."
  type        = string
  default     = null
}

variable "routes" {
  description = "HTTP API route keys served by this function, e.g. [\"POST /webhooks/wavix\"]. Empty for a non-HTTP function."
  type        = list(string)
  default     = []
}

variable "integration_timeout_ms" {
  description = "API Gateway integration timeout in milliseconds (max 30000)."
  type        = number
  default     = 30000
}

variable "alarm_topic_arn" {
  description = "SNS topic notified by the function's alarms."
  type        = string
}

variable "duration_alarm_fraction" {
  description = "Alarm when p99 duration exceeds this fraction of the timeout."
  type        = number
  default     = 0.8
}
