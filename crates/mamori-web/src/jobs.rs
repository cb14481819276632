//! Long work started from a page (a ledger import, a matching run): it runs on a blocking
//! thread while its page (`/jobs/{id}`) shows how far it is and reloads itself every two
//! seconds (a `<meta http-equiv="refresh">`, so no script). The list lives in memory: a
//! restart forgets finished jobs, while what they changed is in the store and the audit log.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// How far a job is.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Still working: what it does now (in Japanese and English) and, when known, done of total.
    Running {
        /// What it is doing (Japanese, English).
        step: (String, String),
        /// Done of total, when counted.
        count: Option<(usize, usize)>,
    },
    /// Finished: its report, line by line (Japanese, English).
    Done(Vec<(String, String)>),
    /// Failed without changing anything: why, line by line (Japanese, English).
    Failed(Vec<(String, String)>),
}

/// One job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its number.
    pub id: u64,
    /// What it is (Japanese, English), e.g. 台帳の取込 ledger.xlsx.
    pub title: (String, String),
    /// Who started it.
    pub user: String,
    /// When.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub ended: Option<DateTime<Utc>>,
    /// How far.
    pub state: JobState,
}

/// The jobs of this server, newest last; the oldest finished ones go beyond 200.
#[derive(Default)]
pub struct Jobs {
    list: Mutex<(u64, Vec<Job>)>,
}

impl Jobs {
    /// Records a new running job and returns its number.
    pub fn start(&self, user: &str, title: (String, String)) -> u64 {
        let mut l = self.list.lock().unwrap_or_else(|p| p.into_inner());
        l.0 += 1;
        let id = l.0;
        if l.1.len() >= 200 {
            if let Some(i) = l.1.iter().position(|j| j.ended.is_some()) {
                l.1.remove(i);
            }
        }
        l.1.push(Job {
            id,
            title,
            user: user.to_string(),
            started: Utc::now(),
            ended: None,
            state: JobState::Running {
                step: ("開始".into(), "starting".into()),
                count: None,
            },
        });
        id
    }

    /// Sets a job's state (and its end time when it is no longer running).
    pub fn set(&self, id: u64, state: JobState) {
        let mut l = self.list.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(j) = l.1.iter_mut().find(|j| j.id == id) {
            if !matches!(state, JobState::Running { .. }) {
                j.ended = Some(Utc::now());
            }
            j.state = state;
        }
    }

    /// One job, if `user` may see it (its own, or any for `all`).
    pub fn get(&self, id: u64, user: &str, all: bool) -> Option<Job> {
        let l = self.list.lock().unwrap_or_else(|p| p.into_inner());
        l.1.iter()
            .find(|j| j.id == id && (all || j.user == user))
            .cloned()
    }

    /// The jobs `user` may see, newest first.
    pub fn visible(&self, user: &str, all: bool) -> Vec<Job> {
        let l = self.list.lock().unwrap_or_else(|p| p.into_inner());
        l.1.iter()
            .rev()
            .filter(|j| all || j.user == user)
            .cloned()
            .collect()
    }
}

/// A handle a job's work reports through.
#[derive(Clone)]
pub struct Reporter {
    pub(crate) jobs: Arc<Jobs>,
    pub(crate) id: u64,
}

impl Reporter {
    /// Says what the job is doing now.
    pub fn step(&self, ja: &str, en: &str, count: Option<(usize, usize)>) {
        self.jobs.set(
            self.id,
            JobState::Running {
                step: (ja.into(), en.into()),
                count,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_sees_only_its_own_jobs_unless_all() {
        let jobs = Jobs::default();
        let a = jobs.start("alice", ("a".into(), "a".into()));
        let b = jobs.start("bob", ("b".into(), "b".into()));
        assert!(jobs.get(a, "bob", false).is_none());
        assert!(jobs.get(a, "bob", true).is_some());
        assert_eq!(jobs.visible("bob", false).len(), 1);
        jobs.set(b, JobState::Done(vec![]));
        let j = jobs.get(b, "bob", false).unwrap();
        assert!(j.ended.is_some());
        assert_eq!(j.state, JobState::Done(vec![]));
    }

    #[test]
    fn old_finished_jobs_make_room() {
        let jobs = Jobs::default();
        for i in 0..250 {
            let id = jobs.start("u", (i.to_string(), i.to_string()));
            jobs.set(id, JobState::Done(vec![]));
        }
        let running = jobs.start("u", ("r".into(), "r".into()));
        assert!(jobs.visible("u", false).len() <= 200);
        assert!(jobs.get(running, "u", false).is_some());
    }
}
