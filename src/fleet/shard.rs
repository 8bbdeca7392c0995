//! `--shard I/N`: a deterministic 1/N of the input, by a stable hash of each target's key
//! (never its line number), so reordering or resuming keeps every target in its shard.
//! `--shard auto/N` takes I from the batch scheduler's environment.

use std::fmt;

/// Shard `index` of `count` (index from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// The variables a batch scheduler sets to a worker's index, in the order they are read:
/// a Kubernetes Indexed Job's, then a Slurm job array's.
pub const INDEX_VARIABLES: [&str; 2] = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"];

impl Shard {
    /// `I/N` or `auto/N`; `env` looks a variable up (the process environment in the CLI).
    pub fn parse(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not a shard: write I/N (e.g. 0/4) or auto/N"))?;
        let count: u64 =
            n.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!("'{n}' in --shard {s} is not a shard count of at least 1")
            })?;
        let (index_text, from) = if i.trim() == "auto" {
            let found = INDEX_VARIABLES
                .iter()
                .find_map(|v| env(v).filter(|x| !x.trim().is_empty()).map(|x| (x, *v)));
            let Some((value, var)) = found else {
                return Err(format!(
                    "--shard auto/{count} needs the worker's index in {} (a Kubernetes Indexed Job) or {} (a Slurm array); neither is set",
                    INDEX_VARIABLES[0], INDEX_VARIABLES[1]
                ));
            };
            (value, Some(var))
        } else {
            (i.to_string(), None)
        };
        let index: u64 = index_text.trim().parse().map_err(|_| match from {
            Some(var) => format!("{var}={index_text:?} is not a shard index"),
            None => format!(
                "'{i}' in --shard {s} is not a shard index (0 to {})",
                count - 1
            ),
        })?;
        if index >= count {
            let source = from.map_or(String::new(), |v| format!(" (from {v})"));
            return Err(format!(
                "shard index {index}{source} is not below the shard count {count}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether the target with this key belongs to this shard.
    pub fn keeps(&self, key: &str) -> bool {
        fnv1a64(key.as_bytes()) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64 bits: tiny, specified, and the same on every machine and release (the std
/// hasher is not).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_hash_is_fnv1a_64() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_key_is_in_exactly_one_shard() {
        let shards: Vec<Shard> = (0..4)
            .map(|i| Shard::parse(&format!("{i}/4"), no_env).unwrap())
            .collect();
        let mut sizes = [0usize; 4];
        for n in 0..1000 {
            let key = format!("127.0.0.{}:{}", n % 250, 1000 + n);
            let owners: Vec<usize> = (0..4).filter(|i| shards[*i].keeps(&key)).collect();
            assert_eq!(owners.len(), 1, "{key}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|s| *s > 150), "{sizes:?}");
    }

    #[test]
    fn auto_reads_the_schedulers_index_or_says_which_variables_it_needs() {
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        assert_eq!(
            Shard::parse("auto/3", k8s).unwrap(),
            Shard { index: 2, count: 3 }
        );
        let slurm = |v: &str| (v == "SLURM_ARRAY_TASK_ID").then(|| "1".to_string());
        assert_eq!(Shard::parse("auto/3", slurm).unwrap().index, 1);
        let err = Shard::parse("auto/3", no_env).unwrap_err();
        assert!(
            err.contains("JOB_COMPLETION_INDEX") && err.contains("SLURM_ARRAY_TASK_ID"),
            "{err}"
        );
        assert!(Shard::parse("auto/3", |_| Some("3".into())).is_err());
        assert!(Shard::parse("4/4", no_env).is_err());
        assert!(Shard::parse("0/0", no_env).is_err());
        assert!(Shard::parse("x/2", no_env).is_err());
        assert!(Shard::parse("1", no_env).is_err());
    }
}
