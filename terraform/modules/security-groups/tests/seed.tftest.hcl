# The seed's security group table, rule for rule, plus the four documented
# additions (main.tf's header), with a mocked AWS provider.
mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name     = "durga-puja"
  vpc_id   = "vpc-00000000000000000"
  app_port = 8080
}

run "seed_table" {
  command = apply

  assert {
    condition = toset(concat(
      [for r in aws_vpc_security_group_ingress_rule.this : format("%s in %s %s %s",
        [for k, g in aws_security_group.this : k if g.id == r.security_group_id][0],
        r.ip_protocol, r.ip_protocol == "-1" ? "all" : "${r.from_port}-${r.to_port}",
      r.cidr_ipv4 != null ? r.cidr_ipv4 : [for k, g in aws_security_group.this : k if g.id == r.referenced_security_group_id][0])],
      [for r in aws_vpc_security_group_ingress_rule.alb_internet : format("%s in %s %s %s",
        [for k, g in aws_security_group.this : k if g.id == r.security_group_id][0],
      r.ip_protocol, "${r.from_port}-${r.to_port}", r.cidr_ipv4)],
      [for r in aws_vpc_security_group_egress_rule.this : format("%s out %s %s %s",
        [for k, g in aws_security_group.this : k if g.id == r.security_group_id][0],
        r.ip_protocol, r.ip_protocol == "-1" ? "all" : "${r.from_port}-${r.to_port}",
      r.cidr_ipv4 != null ? r.cidr_ipv4 : [for k, g in aws_security_group.this : k if g.id == r.referenced_security_group_id][0])],
      )) == toset([
      # The seed's table.
      "alb in tcp 80-80 0.0.0.0/0",
      "alb in tcp 443-443 0.0.0.0/0",
      "alb out tcp 30000-32767 nodes",
      "nodes in tcp 30000-32767 alb",
      "nodes in -1 all nodes",
      "nodes in tcp 443-443 control_plane",
      "nodes in tcp 10250-10250 control_plane",
      "nodes out -1 all 0.0.0.0/0",
      "rds in tcp 5432-5432 nodes",
      "redis in tcp 6379-6379 nodes",
      "control_plane in tcp 443-443 nodes",
      "control_plane out tcp 443-443 nodes",
      "control_plane out tcp 10250-10250 nodes",
      # Documented additions: target-type ip, the LB controller's webhook.
      "alb out tcp 8080-8080 nodes",
      "nodes in tcp 8080-8080 alb",
      "control_plane out tcp 9443-9443 nodes",
      "nodes in tcp 9443-9443 control_plane",
    ])
    error_message = "The security group rules are not the seed's table plus the documented additions (RDS and Redis have no outbound rule)."
  }

  assert {
    condition = alltrue([for k, g in aws_security_group.this :
      g.name_prefix == "${var.name}-${k == "nodes" ? "eks-nodes" : k == "control_plane" ? "eks-control-plane" : k}-"
    ])
    error_message = "A security group has a fixed name: with create_before_destroy its replacement would fail with InvalidGroup.Duplicate."
  }
}
