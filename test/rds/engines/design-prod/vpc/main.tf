output "vpc_id" {
  value = "vpc-03000000000000000"
}

output "private_subnet_ids" {
  value = ["subnet-030a0000000000000", "subnet-030b0000000000000", "subnet-030c0000000000000"]
}
