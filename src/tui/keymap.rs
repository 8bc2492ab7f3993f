//! Keys to [`Command`]s: k9s / vim habits by default (j/k, g/G, /, Esc, q, ?, :), remappable
//! in the config file (`[tui.keys]`, e.g. `"ctrl-r" = "refresh"`). Ctrl-C always interrupts.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Command};
use super::app::Input;

/// A key as written in the config: `q`, `G`, `ctrl-r`, `enter`, `esc`, `space`, `up`, `f5`…
pub fn parse_key(text: &str) -> Option<(KeyCode, KeyModifiers)> {
    let mut modifiers = KeyModifiers::NONE;
    let mut rest = text;
    loop {
        if let Some(r) = rest.strip_prefix("ctrl-") {
            modifiers |= KeyModifiers::CONTROL;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("alt-") {
            modifiers |= KeyModifiers::ALT;
            rest = r;
        } else {
            break;
        }
    }
    let code = match rest {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "space" => KeyCode::Char(' '),
        "tab" => KeyCode::Tab,
        "backspace" => KeyCode::Backspace,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
        _ => return None,
    };
    Some((code, modifiers))
}

#[derive(Debug, Clone)]
pub struct Keymap {
    keys: HashMap<(KeyCode, KeyModifiers), Command>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        use Command::*;
        let defaults: &[(&str, Command)] = &[
            ("q", Quit),
            ("k", Up),
            ("up", Up),
            ("j", Down),
            ("down", Down),
            ("g", Top),
            ("home", Top),
            ("G", Bottom),
            ("end", Bottom),
            ("pageup", PageUp),
            ("ctrl-b", PageUp),
            ("pagedown", PageDown),
            ("ctrl-f", PageDown),
            ("enter", Open),
            ("esc", Back),
            ("space", Mark),
            ("ctrl-a", MarkAll),
            ("/", Filter),
            ("r", Refresh),
            ("ctrl-r", Refresh),
            ("o", Sort),
            ("?", Help),
            (":", Palette),
            ("D", ToggleDryRun),
            ("p", Playbooks),
            ("a", Audit),
            ("1", Servers),
            ("s", Session),
            ("d", DryRun),
        ];
        let keys = defaults
            .iter()
            .filter_map(|(k, c)| parse_key(k).map(|key| (key, *c)))
            .collect();
        Keymap { keys }
    }
}

impl Keymap {
    /// The defaults with the config's bindings on top; an unknown key name is an error.
    pub fn with(overrides: &std::collections::BTreeMap<String, Command>) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (key, command) in overrides {
            let parsed = parse_key(key).ok_or_else(|| {
                format!("[tui.keys]: `{key}` is not a key name (examples: q, G, ctrl-r, enter, f5)")
            })?;
            map.keys.insert(parsed, *command);
        }
        Ok(map)
    }

    /// The key bound to `command`, for the help and hints.
    pub fn key_for(&self, command: Command) -> String {
        let mut keys: Vec<String> = self
            .keys
            .iter()
            .filter(|(_, c)| **c == command)
            .map(|((code, mods), _)| describe(*code, *mods))
            .collect();
        keys.sort_by_key(|k| (k.len(), k.clone()));
        keys.into_iter().next().unwrap_or_default()
    }

    /// The action for a key press, given where typing goes.
    pub fn action(&self, key: KeyEvent, input: Input) -> Option<Action> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return Some(Action::Command(Command::Interrupt));
        }
        if input != Input::None {
            return match key.code {
                KeyCode::Enter => Some(Action::Command(Command::Open)),
                KeyCode::Esc => Some(Action::Command(Command::Back)),
                KeyCode::Backspace => Some(Action::Backspace),
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    Some(Action::Char(c))
                }
                _ => None,
            };
        }
        // Shifted letters arrive with SHIFT set on some terminals: match on the character.
        let mods = key.modifiers - KeyModifiers::SHIFT;
        self.keys
            .get(&(key.code, mods))
            .map(|c| Action::Command(*c))
    }
}

fn describe(code: KeyCode, mods: KeyModifiers) -> String {
    let key = match code {
        KeyCode::Char(' ') => "Space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    };
    if mods.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{key}")
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_vim_habits_and_config_overrides_them() {
        let map = Keymap::default();
        let press = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert!(matches!(
            map.action(press('j'), Input::None),
            Some(Action::Command(Command::Down))
        ));
        assert!(matches!(
            map.action(press('j'), Input::Filter),
            Some(Action::Char('j'))
        ));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(matches!(
            map.action(ctrl_c, Input::Filter),
            Some(Action::Command(Command::Interrupt))
        ));
        let mut overrides = std::collections::BTreeMap::new();
        overrides.insert("x".to_owned(), Command::Quit);
        overrides.insert("f5".to_owned(), Command::Refresh);
        let map = Keymap::with(&overrides).unwrap();
        assert!(matches!(
            map.action(press('x'), Input::None),
            Some(Action::Command(Command::Quit))
        ));
        assert_eq!(map.key_for(Command::Refresh), "r");
        overrides.insert("hyper-x".to_owned(), Command::Quit);
        assert!(Keymap::with(&overrides).unwrap_err().contains("hyper-x"));
    }
}
