# EKS as the seed sizes it, and the fixes of the first-apply review:
# no hidden creator admin, node groups replaced without dropping nodes.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  cluster_name                    = "durga-puja-eks"
  vpc_id                          = "vpc-00000000000000000"
  subnet_ids                      = ["subnet-a", "subnet-b", "subnet-c"]
  control_plane_security_group_id = "sg-control-plane"
  node_security_group_id          = "sg-nodes"
  endpoint_public_access_cidrs    = ["203.0.113.0/24"]
  admin_principal_arns            = ["arn:aws:iam::111122223333:role/operators"]
  kms_key_arn                     = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
}

run "seed_cluster" {
  command = plan

  assert {
    condition = (
      aws_eks_node_group.this["on-demand"].scaling_config[0].min_size == 2 &&
      aws_eks_node_group.this["on-demand"].scaling_config[0].desired_size == 3 &&
      aws_eks_node_group.this["on-demand"].scaling_config[0].max_size == 5 &&
      aws_eks_node_group.this["on-demand"].capacity_type == "ON_DEMAND" &&
      tolist(aws_eks_node_group.this["on-demand"].instance_types) == tolist(["t3.medium"])
    )
    error_message = "The on-demand node group is not the seed's t3.medium, min 2, desired 3, max 5."
  }
  assert {
    condition = (
      aws_eks_node_group.this["spot"].scaling_config[0].min_size == 0 &&
      aws_eks_node_group.this["spot"].scaling_config[0].desired_size == 2 &&
      aws_eks_node_group.this["spot"].scaling_config[0].max_size == 5 &&
      aws_eks_node_group.this["spot"].capacity_type == "SPOT"
    )
    error_message = "The spot node group is not the seed's min 0, desired 2, max 5."
  }
  assert {
    condition     = alltrue([for lt in aws_launch_template.node : lt.block_device_mappings[0].ebs[0].volume_size == 30 && lt.block_device_mappings[0].ebs[0].volume_type == "gp3" && lt.block_device_mappings[0].ebs[0].encrypted == "true"])
    error_message = "Node disks are not 30 GB encrypted gp3."
  }
  assert {
    condition     = aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions == false
    error_message = "The cluster creator is bootstrapped as admin: a 409 on the first apply when it is also in admin_principal_arns, and a hidden admin."
  }
  assert {
    condition     = alltrue([for k, ng in aws_eks_node_group.this : ng.node_group_name_prefix == "durga-puja-eks-${k}-"])
    error_message = "A node group has a fixed name: a ForceNew change could not create its replacement first."
  }
  assert {
    condition     = aws_eks_addon.cloudwatch_observability.addon_name == "amazon-cloudwatch-observability" && length(aws_cloudwatch_log_group.containers) == 4
    error_message = "Container logs are not shipped off the nodes."
  }
}
