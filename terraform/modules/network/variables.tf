variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix for the VPC, subnets, security groups and flow-log resources (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC, /16 to /20. Private subnets take its first /(n+4) blocks, public subnets the /(n+8) blocks inside its last /(n+4) block (see README)."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|20)$", var.vpc_cidr)) && try(cidrsubnet(var.vpc_cidr, 0, 0) == var.vpc_cidr, false)
    error_message = "vpc_cidr must be an IPv4 network CIDR with a prefix length from /16 to /20 and no host bits set (e.g. \"10.20.0.0/16\", not \"10.20.1.0/16\"); /20 is the smallest that still leaves /28 public subnets."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over, taken in order from the region's available zones. Ignored when azs is given."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 6: at least 2 zones keep the endpoint and Batch highly available, the subnet scheme has room for 6."
  }
}

variable "azs" {
  description = "Explicit availability zone names (e.g. [\"us-east-1a\", \"us-east-1b\"]). null picks az_count zones from the region's available ones."
  type        = list(string)
  default     = null

  validation {
    condition     = var.azs == null || (try(length(var.azs), 0) >= 2 && try(length(var.azs), 0) <= 6 && try(length(distinct(var.azs)) == length(var.azs), false))
    error_message = "azs must list 2 to 6 distinct availability zone names (e.g. [\"us-east-1a\", \"us-east-1b\"]), or be null to use az_count."
  }
}

variable "enable_public_subnets" {
  description = "Create one public subnet per zone, an internet gateway and a public route table. Only NAT gateways live there; compute stays private."
  type        = bool
  default     = false
}

variable "enable_nat_gateway" {
  description = "Give the private subnets a default route to NAT gateway(s) for internet egress. Requires enable_public_subnets = true."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_nat_gateway || var.enable_public_subnets
    error_message = "enable_nat_gateway = true needs enable_public_subnets = true: a NAT gateway sits in a public subnet and reaches the internet through the internet gateway. Set both, or neither (the VPC endpoints cover the platform's AWS calls)."
  }
}

variable "single_nat_gateway" {
  description = "With enable_nat_gateway, create one NAT gateway (in the first zone) for all private subnets instead of one per zone. Cheaper, but egress fails when that zone does."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints in the private subnets, as the suffix of com.amazonaws.<region>.<service>. S3 and DynamoDB always get gateway endpoints."
  type        = list(string)
  default     = ["sagemaker.runtime", "sagemaker.api", "ecr.api", "ecr.dkr", "logs", "sts", "batch", "monitoring"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", s)) && !startswith(s, "com.amazonaws.")])
    error_message = "Each interface_endpoints entry must be the service suffix only, lowercase letters, digits, dots and hyphens (e.g. \"sagemaker.runtime\", \"ecr.dkr\", not \"com.amazonaws.us-east-1.sts\")."
  }
}

variable "enable_flow_logs" {
  description = "Send the VPC's flow logs to a KMS-encrypted CloudWatch log group (needs kms_key_arn)."
  type        = bool
  default     = true
}

variable "flow_logs_retention_days" {
  description = "Days the flow-log group keeps its events (a CloudWatch Logs retention value)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "flow_logs_traffic_type" {
  description = "Which traffic the flow logs record: ALL, ACCEPT or REJECT."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ACCEPT", "REJECT"], var.flow_logs_traffic_type)
    error_message = "flow_logs_traffic_type must be \"ALL\", \"ACCEPT\" or \"REJECT\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow-log group (the platform key from the storage module; its policy must let CloudWatch Logs use it). Required when enable_flow_logs = true."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }

  validation {
    condition     = var.kms_key_arn != null || !var.enable_flow_logs || !var.create
    error_message = "kms_key_arn is required while enable_flow_logs = true: flow logs go to a KMS-encrypted log group. Pass the platform key (module.storage.kms_key_arn), or set enable_flow_logs = false."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
