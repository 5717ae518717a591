//! The Python worker of `examples/workers/` completes runs of the order workflow against the
//! real server: two worker processes share five runs, each step done once.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::Weft;

struct Worker(std::process::Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_worker(base: &str) -> Worker {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/workers/order_worker.py"
    );
    let child = Command::new("python3")
        .arg(script)
        .env("WEFT_URL", base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the example worker");
    Worker(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_worker_completes_the_order_workflow() {
    let weft = Weft::fresh().await;
    let def: Value =
        serde_json::from_str(include_str!("../../../examples/order-worker.json")).unwrap();
    weft.put_workflow(&def).await;
    let _workers = [spawn_worker(&weft.base), spawn_worker(&weft.base)];
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            weft.start_run(
                "order-worker",
                json!({"order_id": format!("O-{n}"), "amount": 10 + n}),
            )
            .await,
        );
    }
    for (n, id) in ids.iter().enumerate() {
        let run = weft.wait_for(id, "completed").await;
        assert_eq!(
            run["output"]["charge"]["charge_id"],
            json!(format!("ch_O-{n}")),
            "{run:#}"
        );
        assert_eq!(
            run["output"]["shipment"]["tracking"],
            json!(format!("TRK-O-{n}"))
        );
        for node in ["charge", "fulfil", "confirm", "inventory"] {
            assert_eq!(run["nodes"][node]["attempts"], 1, "{node}: {run:#}");
        }
    }
}
