//! A ratatui app inside a plugin: a counter. `+` and `-` change it, the
//! arrow keys move a marker, a resize redraws at the new size, `q` quits.
//! Events come from crossterm's `EventStream`, woken by the host's reactor,
//! so the host's other plugins keep running while the app waits for keys.
//!
//! ```text
//! tau call examples/tui run
//! ```

use crossterm::event::{Event, EventStream, KeyCode, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Alignment;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Terminal;

#[derive(Default)]
pub struct Tui;

/// What the app shows.
#[derive(Debug, Default)]
struct App {
    count: i64,
    marker: u16,
    keys: u64,
}

impl App {
    /// Applies one key; false when it asks to quit.
    fn key(&mut self, code: KeyCode) -> bool {
        self.keys += 1;
        match code {
            KeyCode::Char('q') => return false,
            KeyCode::Char('+') => self.count += 1,
            KeyCode::Char('-') => self.count -= 1,
            KeyCode::Right => self.marker = self.marker.saturating_add(1),
            KeyCode::Left => self.marker = self.marker.saturating_sub(1),
            _ => {}
        }
        true
    }

    fn draw(&self, frame: &mut ratatui::Frame) {
        let area = frame.area();
        let text = format!(
            "count: {}\nsize: {}x{}\nkeys: {}\n{}^\n+/- count, arrows move, q quits",
            self.count,
            area.width,
            area.height,
            self.keys,
            " ".repeat(usize::from(self.marker)),
        );
        let block = Block::default().borders(Borders::ALL).title(" tau tui ");
        frame.render_widget(Paragraph::new(text).block(block).alignment(Alignment::Left), area);
    }
}

/// The terminal in raw mode on the alternate screen, restored when dropped
/// (also when the app fails or panics).
struct Screen(Terminal<CrosstermBackend<std::io::Stdout>>);

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        terminal::enable_raw_mode()?;
        execute!(std::io::stdout(), EnterAlternateScreen)?;
        Terminal::new(CrosstermBackend::new(std::io::stdout())).map(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(std::io::stdout(), LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
    }
}

#[tau::plugin]
impl Tui {
    /// Runs the app until `q`; returns the final count and how many keys
    /// it read, as `count=N keys=K`.
    #[tau::export]
    pub async fn run(&self) -> Result<String, String> {
        let fail = |error: std::io::Error| error.to_string();
        let mut screen = Screen::enter().map_err(fail)?;
        let mut app = App::default();
        let mut events = EventStream::new();
        loop {
            screen.0.draw(|frame| app.draw(frame)).map_err(fail)?;
            match events.next().await {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    if !app.key(key.code) {
                        break;
                    }
                }
                Some(Ok(Event::Resize(..))) => screen.0.autoresize().map_err(fail)?,
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(format!("reading the terminal: {error}")),
                None => break,
            }
        }
        Ok(format!("count={} keys={}", app.count, app.keys))
    }
}
