//! Classic Load Balancers: isolate deregisters the instance from every one it is registered
//! with (a Classic Load Balancer keeps sending it traffic otherwise, and has no target
//! groups), records them, and release registers it again. moto implements the Classic
//! Load Balancer API; the registrations are read back from it and the calls counted in the
//! simulator's ledger.

use aws_sdk_elasticloadbalancing::types::{Instance, Listener};
use breakglass::aws::{ClassicElbApi, SsmApi};

use crate::support::REGION;
use crate::support::lab::Lab;

const LB: &str = "xroad-classic";

async fn registered(lab: &Lab) -> bool {
    lab.ctx
        .elb_classic(REGION)
        .load_balancers_of(&lab.id)
        .await
        .unwrap()
        .value
        .contains(&LB.to_owned())
}

fn made(lab: &Lab, operation: &str) -> usize {
    lab.ledger()
        .iter()
        .filter(|e| e.operation == operation && e.succeeded())
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn isolate_deregisters_from_a_classic_load_balancer_and_release_registers_again() {
    let mut lab = Lab::at("ss-prod-1").await;
    let elb = lab.ctx.elb_classic(REGION);
    let subnets: Vec<String> = lab
        .estate
        .network
        .subnets
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
    elb.client()
        .create_load_balancer()
        .load_balancer_name(LB)
        .listeners(
            Listener::builder()
                .protocol("TCP")
                .load_balancer_port(443)
                .instance_protocol("TCP")
                .instance_port(8443)
                .build()
                .unwrap(),
        )
        .set_subnets(Some(subnets))
        .send()
        .await
        .unwrap();
    elb.client()
        .register_instances_with_load_balancer()
        .load_balancer_name(LB)
        .instances(Instance::builder().instance_id(&lab.id).build())
        .send()
        .await
        .unwrap();
    assert!(registered(&lab).await);
    lab.mark();

    lab.run("isolate").run().assert_code(0);
    assert!(!registered(&lab).await, "deregistered");
    assert_eq!(
        made(
            &lab,
            "elasticloadbalancing:DeregisterInstancesFromLoadBalancer"
        ),
        1
    );
    let record = lab
        .ctx
        .ssm(REGION)
        .get_parameter(&format!("/breakglass/isolation/{}", lab.id))
        .await
        .unwrap()
        .value
        .unwrap();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["classic_load_balancers"], serde_json::json!([LB]));

    lab.mark();
    lab.run("release").run().assert_code(0);
    assert!(registered(&lab).await, "registered again");
    assert_eq!(
        made(
            &lab,
            "elasticloadbalancing:RegisterInstancesWithLoadBalancer"
        ),
        1
    );
}
