"""Run moto's server on a loopback port, patched where aws-sdk-go-v2 and moto disagree.

Usage: python3 moto_launcher.py PORT

Six patches, all narrow:

1. JSON responses encode a number as a string when the service model says the
   member is a string. moto keeps ECS container cpu/memory as numbers, and the
   Go SDK refuses to decode a number into types.Container.Cpu, .Memory,
   .MemoryReservation or types.Task.Cpu/.Memory (all strings in the model).
2. AWS::ECS::TaskDefinition in CloudFormation keeps the properties moto drops
   (Cpu, NetworkMode, RequiresCompatibilities, TaskRoleArn, ExecutionRoleArn),
   so a stack's Fargate task definition describes as a Fargate one.
3. A network interface in a VPC without DNS hostnames has no private DNS name
   instead of lacking the attribute, which made RunTask for awsvpc tasks fail.
4. CloudFormation's Fn::Select evaluates its index, as AWS does, so an index
   given by Ref to a parameter works (moto only took a literal number).
5. (added for provider/aws, issue 5) RunTask places a task whose container has
   no memory of its own, as a Fargate task with task-level memory has: moto
   added None to its memory sum and answered 500.
6. (added for issue 20) AWS::ElasticLoadBalancingV2::LoadBalancer in CloudFormation
   keeps its Type: moto made every stack load balancer an application one, and
   then refused the TCP listener of a network load balancer.
"""

import copy
import sys

from moto import server
from moto.cloudformation import parsing
from moto.core import serialize
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.models.route_tables import RouteTable
from moto.ecs import models as ecs
from moto.elbv2 import models as elbv2


def _serialize_string(self, serialized, value, shape, key):
    """Encode numbers in string members as strings, as AWS does."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    self._default_serialize(serialized, value, shape, key)


def _task_definition_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """Register a stack's task definition with every property the stack gives."""
    props = cloudformation_json["Properties"]
    family = props.get("Family", resource_name)

    def camel(name):
        return remap_nested_keys(props.get(name, []), pascal_to_camelcase)

    def text(name):
        value = props.get(name)
        return None if value is None else str(value)

    return ecs.ecs_backends[account_id][region_name].register_task_definition(
        family=family,
        container_definitions=camel("ContainerDefinitions"),
        volumes=camel("Volumes"),
        network_mode=props.get("NetworkMode"),
        requires_compatibilities=props.get("RequiresCompatibilities"),
        cpu=text("Cpu"),
        memory=text("Memory"),
        task_role_arn=props.get("TaskRoleArn"),
        execution_role_arn=props.get("ExecutionRoleArn"),
    )


def _delete_route_table(self, account_id, region_name):
    """Delete a stack's route table, letting go of subnets still associated."""
    for association_id in list(self._associations):
        self.ec2_backend.disassociate_route_table(association_id)
    self.ec2_backend.delete_route_table(self.id)


_clean_json = parsing.clean_json


def _clean_json_select(resource_json, resources_map):
    """Evaluate Fn::Select's index too, then defer to moto for everything else."""
    if isinstance(resource_json, dict) and "Fn::Select" in resource_json:
        index, items = resource_json["Fn::Select"]
        items = _clean_json_select(items, resources_map)
        return items[int(_clean_json_select(index, resources_map))]
    return _clean_json(resource_json, resources_map)


_task_requirements = ecs.EC2ContainerServiceBackend._calculate_task_resource_requirements
_memory_keys = ("Memory", "MemoryReservation", "memory", "memoryReservation")


def _task_requirements_without_container_memory(task_definition):
    """Count a container without memory of its own as 0 MB, leaving the definition untouched."""
    view = copy.copy(task_definition)
    view.container_definitions = [
        c if any(c.get(k) is not None for k in _memory_keys)
        else dict({k: v for k, v in c.items() if k not in _memory_keys}, memoryReservation=0)
        for c in task_definition.container_definitions
    ]
    return _task_requirements(view)


def _load_balancer_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """Create a stack's load balancer of the type the stack gives (application or network)."""
    props = cloudformation_json["Properties"]
    return elbv2.elbv2_backends[account_id][region_name].create_load_balancer(
        resource_name,
        props.get("SecurityGroups"),
        props.get("Subnets"),
        scheme=props.get("Scheme", "internet-facing"),
        loadbalancer_type=props.get("Type", "application"),
    )


def main(argv):
    if len(argv) != 2 or not argv[1].isdigit():
        sys.exit("usage: moto_launcher.py PORT")
    serialize.BaseJSONSerializer._serialize_type_string = _serialize_string
    ecs.TaskDefinition.create_from_cloudformation_json = classmethod(_task_definition_from_cfn)
    NetworkInterface.private_dns_name = None
    # moto's clean_json recurses through the module global, so nested nodes reach this too.
    parsing.clean_json = _clean_json_select
    RouteTable.delete = _delete_route_table
    elbv2.FakeLoadBalancer.create_from_cloudformation_json = classmethod(_load_balancer_from_cfn)
    ecs.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(
        _task_requirements_without_container_memory
    )
    server.main(["-H", "127.0.0.1", "-p", argv[1]])


if __name__ == "__main__":
    main(sys.argv)
