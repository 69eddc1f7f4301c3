//! Small helpers and build facts any module may use; this module uses no other Pujo
//! module.

/// The version and commit baked into this binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_SHA: &str = env!("PUJO_GIT_SHA");

/// Lower-case hex, in one allocation (it is on every media request's path).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xF)]));
    }
    out
}

/// Runs CPU-heavy work that only its own request waits for (password hashing, photo
/// decoding) on threads of their own at the lowest CPU priority (nice 19), so that
/// while the cores are busy everything else (the site, cached answers) goes first;
/// on an idle machine it runs at full speed. The callers bound how much is queued.
/// `None` if the work panicked.
pub async fn in_background<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    if background_queue().send(job).is_err() {
        return None;
    }
    result.await.ok()
}

type Job = Box<dyn FnOnce() + Send>;

fn background_queue() -> &'static std::sync::mpsc::Sender<Job> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (queue, jobs) = std::sync::mpsc::channel::<Job>();
        let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("pujo-background-{n}"))
                .spawn(move || {
                    // On Linux each thread has its own nice value, and "this process" in
                    // setpriority is the calling thread. Lowering one's own priority
                    // needs no privilege.
                    let _ = rustix::process::setpriority_process(None, 19);
                    loop {
                        let job = match jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        // A panic costs its own job (the caller sees `None`), not the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .expect("a background thread starts");
        }
        queue
    })
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn background_work_runs_at_the_lowest_priority_and_a_panic_costs_only_itself() {
        let nice = super::in_background(|| rustix::process::getpriority_process(None).ok()).await;
        assert_eq!(nice, Some(Some(19)));
        assert_ne!(rustix::process::getpriority_process(None).ok(), Some(19), "the caller's thread is untouched");
        assert_eq!(super::in_background(|| -> u8 { panic!("a broken photo") }).await, None);
        assert_eq!(super::in_background(|| 2 + 2).await, Some(4), "the threads survive a panic");
    }

    #[test]
    fn hex_is_lower_case_and_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
