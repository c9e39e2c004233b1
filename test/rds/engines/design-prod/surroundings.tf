# What the design's environments/prod/main.tf has around its RDS part: the project name and the VPC and ECS modules
# (stand-ins with the example prod caller's IDs).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "eu-west-3"
}

variable "project_name" {
  type    = string
  default = "accessweaver"
}

module "vpc" {
  source = "./vpc"
}

module "ecs" {
  source = "./ecs"
}
