# Example: the AccessWeaver database for prod, called as an existing Terraform pipeline would.
# The IDs stand for the outputs of your VPC and ECS modules (module.vpc.vpc_id, module.ecs.service_security_group_id).

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100.0, < 7.0.0" }
  }
}

provider "aws" {
  region = "eu-west-3"
}

module "rds" {
  source = "../.."

  project_name = "accessweaver"
  environment  = "prod"

  vpc_id             = "vpc-03000000000000000"
  private_subnet_ids = ["subnet-030a0000000000000", "subnet-030b0000000000000", "subnet-030c0000000000000"]

  allowed_security_groups = ["sg-030e0000000000000"]

  backup_window      = "02:00-03:00"
  maintenance_window = "Sun:03:00-Sun:04:00"

  tags = {
    Backup     = "critical"
    Monitoring = "enhanced"
  }

  # Copies of the recovery points the table marks for disaster recovery go to a vault in another region.
  backup_copy_vault_arn   = "arn:aws:backup:eu-west-1:123456789012:backup-vault:accessweaver-prod-backup-dr"
  backup_copy_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b"

  # The roles of the services that connect (module.ecs outputs), and the role that runs setup-database.
  secret_readers = {
    app                = ["arn:aws:iam::123456789012:role/accessweaver-prod-auth-service-execution", "arn:aws:iam::123456789012:role/accessweaver-prod-database-setup"]
    readonly           = ["arn:aws:iam::123456789012:role/accessweaver-prod-pdp-service-execution", "arn:aws:iam::123456789012:role/accessweaver-prod-database-setup"]
    tenant_context_key = ["arn:aws:iam::123456789012:role/accessweaver-prod-auth-service-execution", "arn:aws:iam::123456789012:role/accessweaver-prod-database-setup"]
  }
}

output "primary_endpoint" {
  value = module.rds.primary_endpoint
}

output "app_secret_arn" {
  value = module.rds.app_secret_arn
}
