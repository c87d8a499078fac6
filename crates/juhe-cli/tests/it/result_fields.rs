//! A product's answer is written once: the JSON keys of a check and the columns of a batch are
//! the product's result fields from `docs/api/`, in their order.

use juhe_proto::{Product, ResultField};
use juhe_sandbox::{Sandbox, builtin_population};

use crate::batch_command::{batch_product, read_output, temp_dir};
use crate::juhe;

#[test]
fn json_keys_and_batch_columns_are_the_products_result_fields() {
    let sandbox = Sandbox::start().unwrap();
    let person = &builtin_population()[0];
    let dir = temp_dir("result-fields");
    std::fs::write(dir.join("face.jpg"), &person.face_image).unwrap();
    let image = dir.join("face.jpg").display().to_string();
    for product in Product::ALL {
        let fields: Vec<&str> = product.result_fields().iter().map(|f| f.wire_name()).collect();
        let mut args = vec![
            "--key",
            sandbox.key(),
            "--base-url",
            sandbox.base_url(),
            "--format",
            "json",
            product.name(),
        ];
        args.extend(["--name", &person.name, "--idcard", &person.idcard]);
        if product != Product::IdCard {
            args.extend(["--mobile", &person.mobile]);
        }
        if product == Product::Face {
            args.extend(["--image", &image]);
        }
        if product == Product::Telecom2 {
            args.retain(|a| *a != "--name" && *a != person.name);
        }
        let run = juhe(&args);
        let answer: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let keys: Vec<&str> = answer["result"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = fields.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted, "{product:?}: the JSON's result keys (serde_json sorts them)");

        let input = dir.join(format!("{}.csv", product.name()));
        let mut text = String::from("name,idcard,mobile,image\n");
        text += &format!("{},{},{},face.jpg\n", person.name, person.idcard, person.mobile);
        std::fs::write(&input, text).unwrap();
        let output = dir.join(format!("{}-out.csv", product.name()));
        let run = batch_product(&sandbox, product.name(), &input, &output, &[]).output().unwrap();
        assert!(run.status.success(), "{product:?}: {}", String::from_utf8_lossy(&run.stderr));
        let (headers, _) = read_output(&output);
        let after_res = headers.iter().position(|h| h == "juhe_ledger_entry").unwrap() + 1;
        let columns: Vec<&str> = headers[after_res..].iter().map(|h| h.trim_start_matches("juhe_")).collect();
        let details: Vec<&str> =
            fields.iter().copied().filter(|f| *f != ResultField::Res.wire_name()).collect();
        assert_eq!(columns, details, "{product:?}: the batch's own columns after juhe_res");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
