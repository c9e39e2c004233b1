# The design document's production configuration (environments/prod/main.tf, RDS part), as written there, with the
# module's own autoscaling switched off (reader_autoscaling = false) so that the caller's resources scale the readers.
module "rds" {
  source = "../../modules/rds"
  
  project_name = var.project_name
  environment  = "prod"
  
  vpc_id             = module.vpc.vpc_id
  private_subnet_ids = module.vpc.private_subnet_ids
  
  # Sécurité renforcée
  allowed_security_groups = [
    module.ecs.service_security_group_id
  ]
  
  # Configuration haute performance
  backup_window      = "02:00-03:00"  # UTC - 3h du matin en France
  maintenance_window = "Sun:03:00-Sun:04:00"  # UTC - Dimanche 4h en France
  
  tags = {
    Backup      = "critical"
    Monitoring  = "enhanced"
    Environment = "production"
  }

  reader_autoscaling = false
}

# Auto Scaling pour read replicas (si charge élevée)
resource "aws_appautoscaling_target" "rds_replica" {
  max_capacity       = 5
  min_capacity       = 2
  resource_id        = "cluster:${module.rds.cluster_identifier}"
  scalable_dimension = "rds:cluster:ReadReplicaCount"
  service_namespace  = "rds"
}

resource "aws_appautoscaling_policy" "rds_replica_scaling" {
  name               = "${var.project_name}-prod-rds-replica-scaling"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.rds_replica.resource_id
  scalable_dimension = aws_appautoscaling_target.rds_replica.scalable_dimension
  service_namespace  = aws_appautoscaling_target.rds_replica.service_namespace

  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "RDSReaderAverageCPUUtilization"
    }
    target_value = 70.0
  }
}
