#!/usr/bin/env bash
# The baseline for `benches/contain.rs`: what a careful responder's shell runbook does to
# isolate Security Servers with the AWS CLI — the same steps as breakglass's `isolate`
# (quarantine and untrack groups, termination protection, Auto Scaling scale-in protection
# and standby, target-group deregistration, per-interface group swaps, tags), one call
# after another, instance after instance.
#
# Usage: runbook.sh INCIDENT INSTANCE_ID...   (AWS_* environment as for the AWS CLI)
set -euo pipefail
incident=$1
shift

group() { # VPC NAME -> the group id, created (and its egress emptied) when missing
  local id
  id=$(aws ec2 describe-security-groups \
    --filters "Name=vpc-id,Values=$1" "Name=group-name,Values=$2" \
    --query 'SecurityGroups[0].GroupId' --output text)
  if [ "$id" = None ]; then
    id=$(aws ec2 create-security-group --vpc-id "$1" --group-name "$2" \
      --description "incident isolation" --query GroupId --output text)
    aws ec2 revoke-security-group-egress --group-id "$id" \
      --ip-permissions '[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]' >/dev/null
  fi
  echo "$id"
}

for id in "$@"; do
  read -r vpc enis < <(aws ec2 describe-instances --instance-ids "$id" \
    --query 'Reservations[0].Instances[0].[VpcId, join(`,`, NetworkInterfaces[].NetworkInterfaceId)]' \
    --output text)
  quarantine=$(group "$vpc" breakglass-quarantine)
  untrack=$(group "$vpc" breakglass-untrack)
  aws ec2 create-tags --resources "$id" \
    --tags "Key=breakglass:incident,Value=$incident" Key=breakglass:state,Value=isolating
  aws ec2 modify-instance-attribute --instance-id "$id" --disable-api-termination
  aws ec2 modify-instance-attribute --instance-id "$id" \
    --instance-initiated-shutdown-behavior Value=stop
  asg=$(aws autoscaling describe-auto-scaling-instances --instance-ids "$id" \
    --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
  if [ "$asg" != None ]; then
    aws autoscaling set-instance-protection --instance-ids "$id" \
      --auto-scaling-group-name "$asg" --protected-from-scale-in
    aws autoscaling enter-standby --instance-ids "$id" --auto-scaling-group-name "$asg" \
      --no-should-decrement-desired-capacity >/dev/null
  fi
  for tg in $(aws elbv2 describe-target-groups \
    --query "TargetGroups[?VpcId=='$vpc'].TargetGroupArn" --output text); do
    registered=$(aws elbv2 describe-target-health --target-group-arn "$tg" \
      --query "TargetHealthDescriptions[?Target.Id=='$id'].Target.Id" --output text)
    if [ -n "$registered" ]; then
      aws elbv2 deregister-targets --target-group-arn "$tg" --targets "Id=$id"
    fi
  done
  for eni in ${enis//,/ }; do
    aws ec2 modify-network-interface-attribute --network-interface-id "$eni" --groups "$untrack"
    aws ec2 modify-network-interface-attribute --network-interface-id "$eni" --groups "$quarantine"
  done
  aws ec2 create-tags --resources "$id" --tags Key=breakglass:state,Value=isolated
done
