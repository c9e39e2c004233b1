output "service_security_group_id" {
  value = "sg-030e0000000000000"
}
