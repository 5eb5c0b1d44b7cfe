//! The second plugin: proves that plugins share one runtime. Its task
//! awaits a value that another plugin's task sends, through an ordinary
//! channel the host hands to both.

use tau::sync::oneshot;

/// No state.
#[derive(Default)]
pub struct Second;

#[tau::plugin]
impl Second {
    /// Awaits the value another plugin sends on `value`, and returns it plus one.
    #[tau::export]
    pub async fn await_value(&self, value: oneshot::Receiver<i64>) -> Result<i64, String> {
        let received = value.await.map_err(|error| format!("the sender went away: {error}"))?;
        Ok(received + 1)
    }
}
