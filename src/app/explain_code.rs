//! `jwtai explain-code`: the docs of one finding code, or the list of all.

use anyhow::bail;

use super::emit;
use crate::cli::ExplainCodeArgs;
use crate::{checks, exit};

pub fn run(args: ExplainCodeArgs) -> anyhow::Result<u8> {
    let mut out = String::new();
    if args.list {
        for s in checks::registry() {
            out.push_str(&format!(
                "{:<28} {:<8} {}\n",
                s.code,
                s.severity.as_str(),
                s.title
            ));
        }
    } else if let Some(code) = args.code.as_deref() {
        let Some(s) = checks::spec(code) else {
            bail!("unknown finding code '{code}' (see `jwtai explain-code --list`)");
        };
        out.push_str(&format!(
            "{} ({})\n{}\n\n{}\n\nFix: {}\n",
            s.code,
            s.severity.as_str(),
            s.title,
            s.doc,
            s.fix
        ));
    }
    emit(&out)?;
    Ok(exit::OK)
}
