//! `tau`: build, load and call tau plugins from the command line.

mod cli;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tau_host::{Builder, Host, PluginId};

use cli::{cache, scaffold, session};

/// Build, load and call tau plugins: Rust crates built as shared libraries
/// that share one async runtime with their host.
///
/// A PLUGIN is a plugin crate directory (built with cargo first, tau-sdk
/// patched in) or a built plugin library (.so / .dylib).
#[derive(Parser, Debug)]
#[command(name = "tau", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load plugins, then run the commands read from stdin.
    ///
    /// One command per line: `<export> [ARGS...]`, or `<plugin>.<export>
    /// [ARGS...]` when several plugins have an export of that name. Arguments
    /// are words; quote them ("two words") to include spaces. Each result is
    /// printed on its own line; errors go to stderr and the session goes on.
    /// Empty lines and lines starting with `#` are skipped. At the end of
    /// input, tau waits for the plugins' running tasks (at most `--grace`;
    /// what still runs then is cancelled, and said so on stderr), unloads
    /// them and exits 0.
    Run {
        /// Plugin crate directories or libraries to load.
        #[arg(required = true, value_name = "PLUGIN")]
        plugins: Vec<PathBuf>,
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Load a plugin, call one export, print its result.
    ///
    /// Arguments are given as text and parsed by the plugin (`FromStr`;
    /// `none` for an `Option`'s `None`). An async export's task is awaited,
    /// and then the plugin's other tasks (at most `--grace`; what still runs
    /// then is cancelled, and said so on stderr), before it is unloaded.
    /// Exits 0 on success, 1 with the error on stderr otherwise.
    Call {
        /// The plugin crate directory or library.
        plugin: PathBuf,
        /// The export to call.
        export: String,
        /// Its arguments, as text.
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        build: BuildArgs,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Build a plugin crate and print the path of its library.
    ///
    /// When the cached library is up to date (no file it was built from, nor
    /// the crate's Cargo.toml, Cargo.lock or cargo config, changed since),
    /// cargo is not run and `up-to-date (skipped): <PLUGIN>` goes to stderr.
    Build {
        /// The plugin crate directory.
        plugin: PathBuf,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Create a new plugin crate that `tau run` and `cargo test` accept as it is.
    New {
        /// The directory to create (must not exist, or be empty).
        path: PathBuf,
        /// The crate's name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Show the toolchain, tau-sdk version, build environment and patches.
    Info,
    /// Print the `[patch.crates-io]` table that makes a cargo project use
    /// tau's crates (tau-sdk, the tokio shim), materialising the vendored
    /// sources they need first. Put it in `.cargo/config.toml` or Cargo.toml.
    PatchConfig,
    /// Inspect or clean the plugin build cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// List a plugin's exports.
    Exports {
        /// The plugin crate directory or library.
        plugin: PathBuf,
        #[command(flatten)]
        build: BuildArgs,
    },
}

#[derive(Subcommand, Debug)]
enum CacheCommand {
    /// List the build environments (the current one marked `*`), their
    /// plugins and their sizes.
    Ls,
    /// Remove the build environments other than the current one.
    Gc {
        /// Remove every environment, the current one too, and tau's own
        /// files in the cache. Files tau did not create are left alone.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args, Debug)]
struct SessionArgs {
    /// How long to wait, after the last command, for tasks the plugins left
    /// running (a timer, a connection task) before cancelling them: `500ms`,
    /// `2s`, `1m`, or seconds.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = session::parse_duration)]
    grace: Duration,
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// Build plugin crates with the release profile.
    #[arg(long)]
    release: bool,
    /// Pass --quiet to cargo (its errors are still shown).
    #[arg(long, short)]
    quiet: bool,
    /// Run cargo even when the cached library is up to date.
    #[arg(long)]
    force: bool,
}

impl BuildArgs {
    fn builder(&self) -> Builder {
        Builder::new().release(self.release).quiet(self.quiet).force(self.force)
    }

    fn host(&self) -> Result<Host, String> {
        let runtime =
            tau::runtime::Runtime::new().map_err(|error| format!("cannot start the runtime: {error}"))?;
        Ok(Host::with_builder(self.builder(), runtime))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Run { plugins, build, session } => {
            let mut host = build.host()?;
            for plugin in &plugins {
                load(&mut host, plugin)?;
            }
            session::run(&host, session::Input::stdin(), session.grace);
            unload_all(&mut host, Some(session.grace))
        }
        Command::Call { plugin, export, args, build, session } => {
            let mut host = build.host()?;
            load(&mut host, &plugin)?;
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let result = host.block_on(async {
                let result = session::call(&host, &export, &args).await;
                session::settle(&host, session.grace).await;
                result
            });
            let unloaded = unload_all(&mut host, Some(session.grace));
            let text = result?;
            println!("{text}");
            unloaded
        }
        Command::Build { plugin, build } => {
            let built = build.builder().build(&plugin).map_err(|error| error.to_string())?;
            println!("{}", built.library.display());
            Ok(())
        }
        Command::New { path, name } => {
            let name =
                name.or_else(|| scaffold::name_for(&path)).ok_or("give the new crate a name with --name")?;
            let patches = Builder::new().prepare_patches().map_err(|error| error.to_string())?;
            scaffold::create(&path, &name, &patches)?;
            println!("created plugin crate `{name}` in {}", path.display());
            println!("try it: tau call {} hello world", path.display());
            Ok(())
        }
        Command::Info => info(),
        Command::PatchConfig => {
            let patches = Builder::new().prepare_patches().map_err(|error| error.to_string())?;
            print!("{}", tau_host::patch_table(&patches));
            Ok(())
        }
        Command::Cache { command: CacheCommand::Ls } => cache::ls(&Builder::new()),
        Command::Cache { command: CacheCommand::Gc { all } } => cache::gc(&Builder::new(), all),
        Command::Exports { plugin, build } => {
            let mut host = build.host()?;
            let id = load(&mut host, &plugin)?;
            let plugin = host.plugin(id).expect("just loaded");
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{} {} ({})", plugin.name(), plugin.version(), plugin.path().display());
            for export in plugin.exports() {
                let doc =
                    if export.doc().is_empty() { String::new() } else { format!("  // {}", export.doc()) };
                let _ = writeln!(stdout, "  {export}{doc}");
            }
            drop(stdout);
            unload_all(&mut host, None)
        }
    }
}

fn load(host: &mut Host, plugin: &Path) -> Result<PluginId, String> {
    host.load(plugin).map_err(|error| error.to_string())
}

/// Unloads every plugin, newest first. With `grace`, the tasks still running
/// after that grace period (and now cancelled) are reported on stderr.
fn unload_all(host: &mut Host, grace: Option<Duration>) -> Result<(), String> {
    let loaded: Vec<(PluginId, String)> =
        host.plugins().map(|plugin| (plugin.id(), plugin.name().to_string())).collect();
    let mut errors = Vec::new();
    for (id, name) in loaded.into_iter().rev() {
        match host.unload(id) {
            Ok(unloaded) => {
                if let (Some(grace), 1..) = (grace, unloaded.tasks_cancelled) {
                    let tasks = if unloaded.tasks_cancelled == 1 { "task" } else { "tasks" };
                    eprintln!(
                        "tau: cancelled {} {tasks} of plugin `{name}` still running {grace:?} after the last call (raise --grace to wait longer)",
                        unloaded.tasks_cancelled
                    );
                }
            }
            Err(error) => errors.push(error.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

fn info() -> Result<(), String> {
    let builder = Builder::new();
    println!("tau {}", env!("CARGO_PKG_VERSION"));
    println!("toolchain: {}", tau::plugin::RUSTC_VERSION);
    println!("tau-sdk: {}", tau::plugin::SDK_VERSION);
    println!("plugin ABI: {}", tau::plugin::abi::PLUGIN_ABI_VERSION);
    println!("runtime table ABI: {}", tau_rt::abi::ABI_VERSION);
    let cache_dir = builder.cache_dir_path().map_err(|error| error.to_string())?;
    println!("cache directory: {}", cache_dir.display());
    let environment = builder.environment().map_err(|error| error.to_string())?;
    println!("build environment: {}", environment.hash());
    println!("  rustc: {}", environment.rustc().display());
    println!(
        "  shared target directory: {}",
        builder.target_dir().map_err(|error| error.to_string())?.display()
    );
    println!("patches ({}):", builder.patches_file_path().display());
    for patch in builder.patches().map_err(|error| error.to_string())? {
        println!("  {} = {}", patch.name, patch.path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
