//! A seeded mutation fuzzer on stable Rust, for `#[test]`s: start from real inputs
//! (msmtprc files, header blocks, server replies), apply a few random edits (bytes
//! flipped, inserted, deleted, duplicated, spliced with another seed, tokens from a
//! dictionary such as `\r\n` or `account`), and hand each case to a check that
//! panics when an invariant breaks.
//!
//! The case count comes from `RSMTP_FUZZ_CASES` (default [`DEFAULT_CASES`]), the
//! random seed from `RSMTP_FUZZ_SEED` (default: the clock). A failing case is
//! written to `$CARGO_TARGET_TMPDIR`-style temp file and the panic names the seed
//! and case number, so `RSMTP_FUZZ_SEED=… RSMTP_FUZZ_CASES=…` replays it exactly.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Cases per target when `RSMTP_FUZZ_CASES` is not set: a few seconds in CI.
pub const DEFAULT_CASES: usize = 3000;

/// What a fuzz run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzReport {
    /// The target's name.
    pub name: String,
    /// The random seed (replay with `RSMTP_FUZZ_SEED`).
    pub seed: u64,
    /// Cases run (all passed: a failing case panics).
    pub cases: usize,
}

impl std::fmt::Display for FuzzReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fuzz {}: {} cases passed (RSMTP_FUZZ_SEED={})",
            self.name, self.cases, self.seed
        )
    }
}

/// Tokens that tend to matter to every parser here.
pub const COMMON_TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\r",
    b"\0",
    b" ",
    b"\t",
    b":",
    b",",
    b";",
    b"\"",
    b"\\",
    b"<",
    b">",
    b"@",
    b"(",
    b")",
    b"#",
    b"=",
    b"[",
    b"]",
    b"%",
    b"~",
    b"\xff",
    b"\xc3\xa9",
    b"\xe6\x97\xa5",
];

/// Seeds from text.
pub fn text_seeds(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// A small, fast, reproducible random source (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Applies one to four random edits to `input`.
pub fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next_u64() as u8),
            2 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(16)).min(out.len());
                out.drain(start..end);
            }
            3 => {
                let pool: Vec<&[u8]> = tokens.iter().chain(COMMON_TOKENS).copied().collect();
                let token = pool[rng.below(pool.len())];
                out.splice(at..at, token.iter().copied());
            }
            4 if !out.is_empty() => {
                // Repeat a piece: long lines, many fields, deep nesting.
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let piece = out[start..end].to_vec();
                let most = if rng.below(8) == 0 { 2000 } else { 8 };
                let times = 1 + rng.below(most);
                let at = end;
                for _ in 0..times {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            5 if !seeds.is_empty() => {
                // Splice: our head, another seed's tail.
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            6 => out.truncate(at),
            7 if !out.is_empty() => {
                let i = rng.below(out.len());
                let special = b"\r\n\0 \t:\"\\<>@,;#";
                out[i] = special[rng.below(special.len())];
            }
            _ => {
                let n = rng.below(8);
                out.splice(at..at, (0..n).map(|_| rng.next_u64() as u8));
            }
        }
    }
    out
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Runs `check` on every seed, then on `RSMTP_FUZZ_CASES` mutated cases.
/// `check` panics when an invariant breaks; the panic is caught, the case saved
/// to a temporary file and a panic raised naming the seed, the case and the file.
pub fn fuzz(
    name: &str,
    seeds: &[Vec<u8>],
    tokens: &[&[u8]],
    check: impl FnMut(&[u8]),
) -> FuzzReport {
    fuzz_cases(name, seeds, tokens, DEFAULT_CASES, check)
}

/// [`fuzz`] with its own default case count, for targets that start a process per
/// case (`rsmtp -bs`): `RSMTP_FUZZ_CASES` still overrides it.
pub fn fuzz_cases(
    name: &str,
    seeds: &[Vec<u8>],
    tokens: &[&[u8]],
    default_cases: usize,
    mut check: impl FnMut(&[u8]),
) -> FuzzReport {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let cases = env_number("RSMTP_FUZZ_CASES").map_or(default_cases, |n| n as usize);
    let seed = env_number("RSMTP_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut rng = Rng::new(seed);
    let mut run = |case: usize, input: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| check(input))).is_err() {
            let saved = tempfile::Builder::new()
                .prefix(&format!("rsmtp-fuzz-{name}-"))
                .tempfile()
                .and_then(|f| f.keep().map_err(|e| e.error))
                .and_then(|(_, path)| std::fs::write(&path, input).map(|()| path));
            panic!(
                "fuzz target {name}: case {case} failed (RSMTP_FUZZ_SEED={seed}); input saved to {:?}",
                saved.map(|p| p.display().to_string())
            );
        }
    };
    for (i, s) in seeds.iter().enumerate() {
        run(i, s);
    }
    // Mutations pile up: half the cases start from an earlier mutant.
    let mut corpus: Vec<Vec<u8>> = seeds.to_vec();
    for case in 0..cases {
        let base = corpus[rng.below(corpus.len())].clone();
        let input = mutate(&mut rng, &base, seeds, tokens);
        run(seeds.len() + case, &input);
        if rng.below(2) == 0 && input.len() < 1 << 20 {
            if corpus.len() < 256 {
                corpus.push(input);
            } else {
                let i = rng.below(corpus.len());
                corpus[i] = input;
            }
        }
    }
    FuzzReport {
        name: name.to_string(),
        seed,
        cases: seeds.len() + cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_cases() {
        let seeds = vec![b"account a\nhost x\n".to_vec()];
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..200 {
            assert_eq!(
                mutate(&mut a, &seeds[0], &seeds, &[b"account"]),
                mutate(&mut b, &seeds[0], &seeds, &[b"account"])
            );
        }
    }

    #[test]
    fn a_failing_check_is_reported_with_its_seed() {
        let seeds = vec![b"abc".to_vec()];
        let r = catch_unwind(|| {
            fuzz("selftest", &seeds, &[], |input| assert!(input != b"abc"));
        });
        let Err(payload) = r else {
            panic!("a failing check must fail the run")
        };
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains("RSMTP_FUZZ_SEED="), "{text}");
        // The saved case is named in the message: check it, then clean up.
        let saved = text
            .split_once("Ok(\"")
            .and_then(|(_, rest)| rest.split_once("\")"))
            .map(|(path, _)| path.to_string());
        let saved = saved.expect("the case is saved");
        assert_eq!(std::fs::read(&saved).ok().as_deref(), Some(&b"abc"[..]));
        let _ = std::fs::remove_file(&saved);
    }
}
