//! `tributary vm ...`

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use vm::{Context, VmProfile};

use super::parse_hex;
use crate::cli::{Chain, VmCommand};

/// Runs a `vm` subcommand. A program that fails is a result, not an error: the JSON says why and where.
pub(crate) fn run(cmd: VmCommand) -> Result<Value> {
    let VmCommand::Run {
        program,
        asm,
        args,
        chain,
        gas,
    } = cmd;
    let profile = match chain {
        Chain::Main => VmProfile::Main,
        Chain::Side => VmProfile::Side,
    };
    let code = if asm {
        vm::assemble_for(profile, &program).context("--program is not valid assembly")?
    } else {
        parse_hex("--program", &program)?
    };
    let args = args
        .iter()
        .map(|a| parse_hex("--arg", a))
        .collect::<Result<Vec<_>>>()?;
    let gas = i64::try_from(gas).context("--gas is too large")?;
    let ctx = Context::new(profile, &code, &args);
    let disassembly = vm::disassemble_for(profile, &code).unwrap_or_else(|e| format!("<unparsable: {e}>"));
    Ok(match vm::verify(&ctx, gas) {
        Ok(gas_left) => json!({
            "success": true,
            "gas_left": gas_left,
            "gas_used": gas - gas_left,
            "program": disassembly,
        }),
        Err(failure) => json!({
            "success": false,
            "error": failure.reason.to_string(),
            "op": failure.op,
            "pc": failure.pc,
            "gas_left": failure.gas_left,
            "program": disassembly,
        }),
    })
}
