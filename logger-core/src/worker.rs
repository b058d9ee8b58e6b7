//! A thread that serves until it is told to stop and that the engine's commit hook wakes:
//! what the BACnet/IP and Modbus TCP servers share.

use crate::engine::{CommitHook, Committed};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// The running thread; dropping it stops the thread and waits for it.
#[derive(Debug)]
pub(crate) struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    commits: mpsc::Sender<()>,
}

impl Worker {
    /// Starts thread `name` running `run(stop, commits)`: `stop` turns true when the worker
    /// is dropped, `commits` receives one message per committed read cycle.
    pub(crate) fn spawn(
        name: &str,
        run: impl FnOnce(&AtomicBool, &mpsc::Receiver<()>) + Send + 'static,
    ) -> std::io::Result<Worker> {
        let stop = Arc::new(AtomicBool::new(false));
        let (commits, inbox) = mpsc::channel();
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(&flag, &inbox))?;
        Ok(Worker {
            stop,
            thread: Some(thread),
            commits,
        })
    }

    /// The hook to add to the engine ([`crate::engine::Logger::add_commit_hook`]).
    pub(crate) fn hook(&self) -> CommitHook {
        let commits = self.commits.clone();
        Box::new(move |_: &Committed| {
            // The thread may have stopped; then nobody needs to hear about it.
            let _ = commits.send(());
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
