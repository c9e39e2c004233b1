# Example: the AccessWeaver database for staging, called as an existing Terraform pipeline would.
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
  environment  = "staging"

  vpc_id             = "vpc-02000000000000000"
  private_subnet_ids = ["subnet-020a0000000000000", "subnet-020b0000000000000", "subnet-020c0000000000000"]

  allowed_security_groups = ["sg-020e0000000000000"]

  backup_window      = "02:00-03:00"
  maintenance_window = "Sun:03:00-Sun:04:00"

  tags = {
    Backup     = "standard"
    Monitoring = "enhanced"
  }

  # The roles of the services that connect (module.ecs outputs), and the role that runs setup-database.
  secret_readers = {
    app                = ["arn:aws:iam::123456789012:role/accessweaver-staging-auth-service-execution", "arn:aws:iam::123456789012:role/accessweaver-staging-database-setup"]
    readonly           = ["arn:aws:iam::123456789012:role/accessweaver-staging-pdp-service-execution", "arn:aws:iam::123456789012:role/accessweaver-staging-database-setup"]
    tenant_context_key = ["arn:aws:iam::123456789012:role/accessweaver-staging-auth-service-execution", "arn:aws:iam::123456789012:role/accessweaver-staging-database-setup"]
  }
}

output "primary_endpoint" {
  value = module.rds.primary_endpoint
}

output "app_secret_arn" {
  value = module.rds.app_secret_arn
}
