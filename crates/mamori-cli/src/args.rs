//! Command-line arguments. Help texts are bilingual (日本語 — English) because clap's
//! help is static; every message mamori itself prints follows `--lang`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// mamori (守り) — 医療機関のセキュリティ運用 / security operations for hospitals.
#[derive(Debug, Parser)]
#[command(name = "mamori", version, about, long_about = None, arg_required_else_help = true)]
pub struct Cli {
    /// データの保存先 — data directory
    #[arg(
        long,
        global = true,
        env = "MAMORI_DATA",
        default_value = "./mamori-data"
    )]
    pub data_dir: PathBuf,

    /// 表示言語 (ja|en)。既定は LANG から — display language; default from LANG
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,

    /// JSON で出力 (形式は docs/json.md) — print JSON (shapes in docs/json.md)
    #[arg(long, global = true)]
    pub json: bool,

    /// この mamori 利用者として実行 (パスワードは MAMORI_PASSWORD か --password-file)。既定はデータ保存先の所有者 (管理者) — act as this mamori user (password from MAMORI_PASSWORD or --password-file); default: the data directory's owner, as administrator
    #[arg(long, global = true, env = "MAMORI_USER")]
    pub user: Option<String>,

    /// --user のパスワードを読むファイル — file holding --user's password
    #[arg(long, global = true)]
    pub password_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// `--lang` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// 日本語
    Ja,
    /// English
    En,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// データ保存先と管理者を作成 — create the data directory and the first administrator
    Init {
        /// 管理者パスワードをこのファイルから読む (13文字以上) — read the admin password from this file (13+ characters)
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
    },
    /// デモ病院を作成 — create a demo hospital with about 200 devices
    Demo {
        /// デモの保存先 — where to create it
        #[arg(long, default_value = "./mamori-demo")]
        dir: PathBuf,
        /// 作成後に Web 画面を提供しない — only create it, do not serve the web UI afterwards
        #[arg(long)]
        no_serve: bool,
        /// Web 画面の待ち受け — where the web UI listens
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// 機器台帳 — the device ledger
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// 脆弱性情報の取り込み — vulnerability feeds
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// 脆弱性 — vulnerabilities
    #[command(subcommand)]
    Vuln(VulnCommand),
    /// 監査ログ — the audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 台帳と脆弱性情報を突合し検出を更新 — match the ledger against the vulnerability store and update findings
    Match {
        /// 全件を突合 (既定は前回以降の変更分) — evaluate everything (default: what changed since the last run)
        #[arg(long)]
        full: bool,
    },
    /// 検出 (機器×脆弱性) — findings (device × vulnerability)
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// SBOM (CycloneDX / SPDX) — software bills of materials
    #[command(subcommand)]
    Sbom(SbomCommand),
    /// 利用者と役割 — mamori's users and their roles
    #[command(subcommand)]
    User(UserCommand),
    /// 設定 — settings
    #[command(subcommand)]
    Config(ConfigCommand),
    /// 事業者確認 (適用可否の確認) — asking vendors whether fixes can be applied
    #[command(subcommand)]
    Inquiry(InquiryCommand),
    /// VEX (脆弱性の影響に関する表明) を書き出し — write VEX statements
    #[command(subcommand)]
    Vex(VexCommand),
    /// ネットワーク監査 (8.3): 探索・サービス識別・台帳との照合 — network audit: discovery, service identification, reconciliation with the ledger
    #[command(subcommand)]
    Scan(ScanCommand),
    /// 祝日 (内閣府 syukujitsu.csv) — national holidays
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// 稼働時間帯 (外来・病棟24時間・保守VPN …) — operating schedules
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// 稼働監視: 機器の稼働を軽く確認し続ける (既定 5 分ごと) — watch devices: a light liveness probe every interval
    Watch {
        /// 間隔 (秒、既定 300 または設定 watch.interval_seconds) — seconds between rounds
        #[arg(long)]
        interval: Option<u64>,
        /// 1 回だけ確認して終了 — one round, then exit
        #[arg(long)]
        once: bool,
        /// この回数で終了 — stop after this many rounds
        #[arg(long)]
        rounds: Option<u64>,
    },
    /// 稼働時間の集計・制御ルールの生成 — hours up against schedules; enforcement helpers
    #[command(subcommand)]
    Hours(HoursCommand),
    /// 既定パスワード検査 (8.3): 承認・除外・一覧 — default-credential checks: approvals, exclusions, the catalogue
    #[command(subcommand)]
    Creds(CredsCommand),
    /// 企画管理者の確認 (起動時パスワード・出荷時パスワード変更・不要なサービス停止・初期設定) — attestations of initial settings
    #[command(subcommand)]
    Attest(AttestCommand),
    /// ホスト情報の収集 (パッケージ・待受ポート・アカウント・sshd・ブートローダ) — the host collector for Linux servers and terminals
    Collect(CollectArgs),
    /// REST API のトークン — tokens for the REST API (/api/v1)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Web 画面を提供 (既定 http://127.0.0.1:8080) — serve the web UI (default http://127.0.0.1:8080)
    Serve {
        /// 待ち受けるアドレスとポート — address and port to listen on
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// HTTPS (証明書がなければ自己署名を作成しデータ保存先に保管) — HTTPS (without --cert, a self-signed certificate kept in the data directory)
        #[arg(long)]
        tls: bool,
        /// サーバ証明書 (PEM、中間証明書を含む) — server certificate chain (PEM)
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// 秘密鍵 (PEM) — its private key (PEM)
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
    },
}

/// `mamori collect`: run on the host (or `--ssh`), or one of its subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CollectArgs {
    #[command(subcommand)]
    pub command: Option<CollectCommand>,
    #[command(flatten)]
    pub run: CollectRunArgs,
}

/// Where to collect from and where the report goes.
#[derive(Debug, Args)]
pub struct CollectRunArgs {
    /// 別のルートを読む (マウントしたディスク・debootstrap) — read another root (a mounted disk, a debootstrap tree)
    #[arg(long, conflicts_with = "ssh")]
    pub root: Option<PathBuf>,
    /// SSH で収集 (鍵認証のみ、例 root@192.168.10.5) — collect over SSH (key authentication only)
    #[arg(long)]
    pub ssh: Option<String>,
    /// SSH のポート — SSH port
    #[arg(long, requires = "ssh")]
    pub port: Option<u16>,
    /// SSH の秘密鍵 — SSH private key
    #[arg(long, requires = "ssh")]
    pub identity: Option<PathBuf>,
    /// known_hosts ファイル (新しい鍵は記録、変わった鍵は拒否) — known-hosts file (new keys kept, changed keys refused)
    #[arg(long, requires = "ssh")]
    pub known_hosts: Option<PathBuf>,
    /// 署名付きレポートの書き出し先 (閉域網への持ち込み用) — write a signed report here (to carry in)
    #[arg(long, requires = "key")]
    pub out: Option<PathBuf>,
    /// 署名に使う収集鍵 (collect keygen で作成) — the collector key to sign with
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// 直接この台帳機器に取り込む — import directly onto this ledger device (管理番号)
    #[arg(long = "import-to", conflicts_with = "out")]
    pub import_to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CollectCommand {
    /// 収集鍵を作成し登録 — make a collector key pair and register its public half
    Keygen {
        /// 鍵の名前 — a name for the key
        #[arg(long)]
        name: String,
        /// 秘密鍵の書き出し先 (公開鍵は .pub) — where to write the secret key (the public one beside it, .pub)
        #[arg(long)]
        out: PathBuf,
    },
    /// 署名付きレポートを台帳機器に取り込む — import a signed report onto a ledger device
    Import {
        /// レポート — the signed report
        file: PathBuf,
        /// 管理番号
        #[arg(long)]
        device: String,
    },
    /// 機器のレポートの一覧 — a device's reports
    Show {
        /// 管理番号
        device: String,
    },
}

/// `attest coverage --by`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CoverageByArg {
    /// 部署ごと — per department
    Department,
    /// 機器種別ごと — per kind
    Kind,
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// 確認を記録 (企画管理者) — record an attestation (planning administrator)
    Set {
        /// 管理番号
        asset: String,
        /// 項目: boot_password (起動時パスワード設定) | default_password (出荷時パスワード変更) | server_admin (サーバソフトの管理者ID) | services_stopped (不要なサービス停止) | initial_settings (初期設定の確認)
        item: String,
        /// はい | いいえ | 対象外 (yes | no | not_applicable)
        value: String,
        /// 根拠 (例 「BIOS画面を確認、写真あり」) — where the evidence is
        #[arg(long)]
        evidence: Option<String>,
        /// 根拠ファイルを添付 — attach a file as evidence
        #[arg(long)]
        attach: Option<PathBuf>,
        /// 再確認までの日数 (既定 365 または設定 attest.interval_days) — re-confirm after this many days
        #[arg(long)]
        interval_days: Option<i64>,
    },
    /// 機器ごとの現在の確認状況 — the current state per device and item
    List {
        /// 管理番号 (省略で全機器) — one device
        asset: Option<String>,
        /// 履歴をすべて表示 — every attestation, oldest first
        #[arg(long)]
        history: bool,
    },
    /// 確認が必要なもの (未確認・いいえ・期限切れ・期限間近) — what needs confirming
    Due {
        /// この日数以内に期限が来るものも含める — include what falls due within this many days
        #[arg(long, default_value_t = 30)]
        within_days: i64,
    },
    /// 部署・機器種別ごとの確認率 — coverage per department or kind
    Coverage {
        /// 集計の単位 — group by
        #[arg(long, value_enum, default_value = "department")]
        by: CoverageByArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// 祝日の一覧 — list national holidays
    Holidays {
        /// 年 — year
        #[arg(long)]
        year: Option<i32>,
    },
    /// 内閣府の祝日 CSV (Shift_JIS) を取り込み — import the Cabinet Office's holiday CSV
    ImportHolidays {
        /// syukujitsu.csv
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// 稼働時間帯を登録・置換 — add or replace a schedule
    Set {
        /// 名前 (例 外来) — name
        name: String,
        /// 24時間365日 — 24/365
        #[arg(long)]
        always: bool,
        /// 曜日と時間 (例 "mon-fri 08:30-17:30"、"月-金 19:00-07:00"、複数可) — weekly range (repeatable)
        #[arg(long = "weekly")]
        weekly: Vec<String>,
        /// 第n曜日の休み (例 2sat 4sat) — closed on the nth weekday (repeatable)
        #[arg(long = "closed-nth")]
        closed_nth: Vec<String>,
        /// 祝日も稼働 — open on national holidays
        #[arg(long)]
        open_on_holidays: bool,
        /// 年末年始 (既定 12/29-01/03、none で無し) — year-end closure
        #[arg(long, default_value = "12/29-01/03")]
        year_end: String,
        /// 休診日 (YYYY-MM-DD、複数可) — the hospital's own closed days
        #[arg(long = "closed-day")]
        closed_days: Vec<String>,
        /// 臨時の稼働・保守窓 (例 "2026-12-05 20:00-22:00"、複数可) — one-off windows
        #[arg(long = "window")]
        windows: Vec<String>,
    },
    /// 一覧 — list schedules
    List,
    /// 機器種別・部署の既定の稼働時間帯 — the default schedule of a kind or department
    Default {
        /// 機器種別 — kind
        #[arg(long, conflicts_with = "department")]
        kind: Option<String>,
        /// 部署 — department
        #[arg(long)]
        department: Option<String>,
        /// 稼働時間帯 (省略で解除) — schedule (omit to clear)
        schedule: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HoursCommand {
    /// 機器・日ごとの稼働時間と予定時間 — hours up per device and day against the schedule
    Report {
        /// 開始日 — from (YYYY-MM-DD)
        #[arg(long)]
        from: String,
        /// 終了日 (既定: 開始日) — to
        #[arg(long)]
        to: Option<String>,
        /// 部署 — department
        #[arg(long)]
        department: Option<String>,
        /// 部署ごとに集計 — one row per department and day
        #[arg(long)]
        by_department: bool,
        /// CSV で出力 — CSV output
        #[arg(long)]
        csv: bool,
    },
    /// nftables ルールと cron を生成 (適用はしない) — generate nftables rules and a cron file (never applied)
    Nftables {
        /// 稼働時間帯 — schedule
        schedule: String,
        /// 書き出し先 (.nft; cron は .cron) — where to write (the cron file beside it)
        #[arg(long)]
        out: Option<PathBuf>,
        /// cron に載せる日数 — days ahead in the cron file
        #[arg(long, default_value_t = 366)]
        days: i64,
    },
}

/// `--vantage`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VantageArg {
    /// 院内から — from inside the hospital network
    Internal,
    /// 院外から (応答したものは外部から到達可能) — from outside: whatever answers is reachable from outside
    External,
}

/// The options of `scan run`.
#[derive(Debug, Args)]
pub struct ScanRunArgs {
    /// 範囲: CIDR・範囲・アドレス (例 192.168.10.0/24,192.168.20.1-50) — scope: CIDRs, ranges, addresses
    #[arg(long)]
    pub scope: Option<String>,
    /// 台帳に登録されたアドレスを範囲に加える — add every address in the ledger
    #[arg(long)]
    pub ledger: bool,
    /// 除外するアドレス (スキャン除外の機器は常に除外) — addresses never probed (devices flagged スキャン除外 always are)
    #[arg(long)]
    pub exclude: Option<String>,
    /// ポート (例 22,80,8000-8100,U:161、既定は病院向け一覧) — ports (default: the hospital list, docs/scan.md)
    #[arg(long)]
    pub ports: Option<String>,
    /// 毎秒のプローブ数 (全体、既定 100、0 は無制限) — probes per second overall (default 100; 0: no limit)
    #[arg(long)]
    pub rate: Option<f64>,
    /// 1台あたりの同時接続数 (既定 2) — connections at once per host (default 2)
    #[arg(long)]
    pub per_host: Option<usize>,
    /// 全体の同時接続数 (既定 256) — connections at once overall (default 256)
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// 接続タイムアウト (ミリ秒、既定 1500) — connect timeout in ms (default 1500)
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// 実行してよい時間帯 (例 "mon-fri 19:00-07:00"、複数可) — when probes may be sent (repeatable)
    #[arg(long = "window")]
    pub windows: Vec<String>,
    /// SNMP コミュニティ (複数可、既定 public) — SNMP communities to try (default public)
    #[arg(long = "snmp-community")]
    pub snmp_communities: Vec<String>,
    /// スキャンを行う位置 — where the scan looks from
    #[arg(long, value_enum, default_value = "internal")]
    pub vantage: VantageArg,
    /// 広い範囲 (設定 scan.max_addresses 超) を確認済み — confirm a broad scope
    #[arg(long)]
    pub yes: bool,
    /// グローバルアドレスを含めることを確認済み — confirm public addresses in the scope
    #[arg(long)]
    pub allow_public: bool,
    /// サービス識別をしない (ポートの開閉のみ) — only find open ports, do not identify services
    #[arg(long)]
    pub no_identify: bool,
    /// 出荷時パスワード・認証なしを検査 (企画管理者の承認が必要) — try default credentials on the services found (needs the 企画管理者's approval: `creds approve`)
    #[arg(long, conflicts_with = "no_identify")]
    pub creds: bool,
    /// 自院の既定パスワード一覧を追加 (TOML または DefaultCreds CSV、複数可) — add the hospital's own catalogue files (repeatable)
    #[arg(long = "catalog", requires = "creds")]
    pub catalogs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// 検査を承認 (企画管理者) — approve default-credential checks for a scope (planning administrator)
    Approve {
        /// 範囲: CIDR・範囲・アドレス — where credentials may be tried
        #[arg(long)]
        scope: String,
        /// 除外するアドレス — never tried
        #[arg(long)]
        exclude: Option<String>,
        /// 実行してよい時間帯 (例 "mon-fri 19:00-07:00"、複数可) — when (repeatable; none: whenever the scan may)
        #[arg(long = "window")]
        windows: Vec<String>,
        /// 1台・1アカウントあたりの試行回数 (既定 3) — attempts per account and device in a run (default 3)
        #[arg(long)]
        max_attempts: Option<u32>,
        /// 同じ機器への試行の間隔 (ミリ秒、既定 1000) — pause between attempts to one device, ms (default 1000)
        #[arg(long)]
        delay_ms: Option<u64>,
        /// 条件・理由 — conditions, why
        #[arg(long)]
        note: Option<String>,
    },
    /// 承認の一覧 — list approvals
    Approvals,
    /// 承認を取り消す — withdraw an approval
    Revoke {
        /// 承認番号 — approval id
        id: i64,
    },
    /// 機器を検査対象から外す — never try credentials on a device
    Exclude {
        /// 管理番号
        asset: String,
        /// 理由 — why
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 除外を解除 — try a device again
    Include {
        /// 管理番号
        asset: String,
    },
    /// 除外した機器の一覧 — list excluded devices
    Excluded,
    /// 既定パスワード一覧の件数と内訳 — size and composition of the catalogue
    Catalog {
        /// 追加のファイル — the hospital's own files
        #[arg(long = "catalog")]
        catalogs: Vec<PathBuf>,
        /// 全件を表示 (パスワードは表示しない) — list every entry (never the password)
        #[arg(long)]
        list: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// スキャンを実行 (範囲の指定が必須) — run a scan (a scope is required)
    Run(ScanRunArgs),
    /// スキャンの一覧 — list scans
    List,
    /// スキャン結果の詳細 — what a scan saw
    Show {
        /// スキャン番号 — scan id
        id: i64,
    },
    /// 2つのスキャンの差分 — what appeared and disappeared between two scans
    Diff {
        /// 前のスキャン — the earlier scan
        from: i64,
        /// 後のスキャン — the later scan
        to: i64,
    },
    /// nmap の XML (-oX) を取り込み — import nmap XML output
    ImportNmap {
        /// nmap -oX の出力 — the file
        file: PathBuf,
        /// スキャンを行った位置 — where nmap looked from
        #[arg(long, value_enum, default_value = "internal")]
        vantage: VantageArg,
    },
    /// 許可するサービスを登録 (想定外のサービスの判定に使用) — allow services on a device or a kind of device
    Allow {
        /// 管理番号、または kind:種別 (例 kind:server、kind:医療機器) — a 管理番号, or kind:KIND
        target: String,
        /// ポート (例 22,443,U:161) — ports
        ports: String,
        /// メモ — why
        #[arg(long)]
        note: Option<String>,
        /// 許可を取り消す — stop allowing them
        #[arg(long)]
        remove: bool,
    },
    /// 許可されたサービスの一覧 — list allowed services
    Allowed,
}

#[derive(Debug, Subcommand)]
pub enum VexCommand {
    /// 機器または事業者ごとに書き出し (CycloneDX 1.5 / CSAF 2.0) — export for a device or a vendor's devices
    Export {
        /// 書き出し先 (.json) — the file to write
        file: PathBuf,
        /// 管理番号 — one device
        #[arg(long, conflicts_with = "vendor", required_unless_present = "vendor")]
        asset: Option<String>,
        /// 保守事業者 — every device of this vendor
        #[arg(long)]
        vendor: Option<String>,
        /// 形式 — format
        #[arg(long, value_enum, default_value = "cyclonedx")]
        format: VexFormatArg,
    },
}

/// `--format` of `vex export`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VexFormatArg {
    /// CycloneDX 1.5 JSON
    Cyclonedx,
    /// CSAF 2.0 (csaf_vex)
    Csaf,
}

#[derive(Debug, Subcommand)]
pub enum InquiryCommand {
    /// 照会を作成 (対象の検出は事業者確認中に) — ask a vendor about findings on its devices (they become 事業者確認中)
    Open {
        /// 事業者 (台帳の保守事業者) — the vendor, as in the ledger
        vendor: String,
        #[command(flatten)]
        select: FindingSelection,
        /// 確認事項 — the question
        #[arg(
            long,
            default_value = "修正プログラム（ファームウェア）の適用可否と、適用できない場合の代替策をご教示ください。"
        )]
        question: String,
    },
    /// 事業者確認依頼シート (.xlsx) を書き出し — write the request sheet for a vendor
    Export {
        /// 事業者 — the vendor
        vendor: String,
        /// 書き出し先 (.xlsx) — the file to write
        file: PathBuf,
    },
    /// 回答済みシートを取り込み (全行を検査し、誤りがあれば何も記録しない) — record the answers of a filled-in sheet (all rows or none)
    Import {
        /// 回答済みのシート — the vendor's sheet
        file: PathBuf,
    },
    /// ファイルを添付 (SHA-256 を記録して保管) — attach a file (kept with its SHA-256)
    Attach {
        /// 照会番号 — inquiry id
        id: i64,
        /// 添付するファイル — the file
        file: PathBuf,
    },
    /// 照会の一覧 — list inquiries
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// 利用者を追加 (パスワード未指定なら初回パスワードを発行) — add a user (a one-time password unless one is given)
    Add {
        /// 利用者名 (半角英数字 . _ -) — login name
        username: String,
        /// 役割 (複数可): operator, planner, security_manager, auditor, vendor, administrator または日本語名 — role(s)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// 表示名 — display name
        #[arg(long)]
        name: Option<String>,
        /// 事業者の利用者の会社 (台帳の保守事業者と同じ名前) — a vendor user's company, as the ledger names it
        #[arg(long)]
        vendor: Option<String>,
        /// パスワードをこのファイルから読む (13文字以上) — read the password from this file (13+ characters)
        #[arg(long)]
        new_password_file: Option<PathBuf>,
    },
    /// 利用者の一覧 — list users
    List,
    /// 利用者を無効化 (削除はしない) — disable a user (users are never deleted)
    Disable {
        /// 利用者名 — login name
        username: String,
        /// 理由 — why
        #[arg(long)]
        reason: Option<String>,
    },
    /// 無効化した利用者を戻す — enable a disabled user
    Enable {
        /// 利用者名 — login name
        username: String,
        /// 理由 — why
        #[arg(long)]
        reason: Option<String>,
    },
    /// パスワードを変更 (本人) または再発行 (管理者) — change your password, or (administrator) issue a new one-time password
    Passwd {
        /// 利用者名 — login name
        username: String,
        /// 新しいパスワードをこのファイルから読む (本人の変更では必須。環境変数 MAMORI_NEW_PASSWORD でも可) — read the new password from this file (required for your own; or the MAMORI_NEW_PASSWORD variable)
        #[arg(long)]
        new_password_file: Option<PathBuf>,
    },
    /// 役割を置き換え — replace a user's roles
    Role {
        /// 利用者名 — login name
        username: String,
        /// 役割 (複数可) — role(s)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// 理由 — why
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// 一覧 (既定: 検出中のみ、緊急度順) — list (default: those still present, most urgent first)
    List {
        /// 管理番号 — asset id
        #[arg(long)]
        asset: Option<String>,
        /// CVE-… / JVNDB-…
        #[arg(long)]
        cve: Option<String>,
        /// KEV 掲載のみ — only those in CISA KEV
        #[arg(long)]
        kev: bool,
        /// この緊急度以上 (urgent|high|medium|low / 緊急|高|中|低) — at least this level
        #[arg(long)]
        min_priority: Option<String>,
        /// 状態 (open|resolved|not_affected|all)
        #[arg(long, default_value = "open")]
        status: String,
        /// 部署 — department
        #[arg(long)]
        department: Option<String>,
        /// 対応状況 (未対応|調査中|事業者確認中|適用予定|適用済|代替策|リスク受容|該当なし|誤検知 または new, investigating, …) — remediation state
        #[arg(long)]
        state: Option<String>,
        /// 対応期限を過ぎた対応中の検出のみ (期限: KEV 14日・緊急 30日・高 60日・他 120日、mamori config set sla.*) — only findings past their due date and still being handled
        #[arg(long)]
        overdue: bool,
        /// 区分: 8.2 (脆弱性) または 8.3 (安全な利用: スキャンの所見) — category: 8.2 (vulnerabilities) or 8.3 (safe use: scan findings)
        #[arg(long, value_parser = ["8.2", "8.3"])]
        category: Option<String>,
        /// まとめ方 — group by
        #[arg(long, value_enum)]
        group_by: Option<GroupByArg>,
        /// CSV で出力 — print CSV
        #[arg(long)]
        csv: bool,
    },
    /// 詳細と根拠 — one finding with its evidence
    Show {
        /// 検出番号 — finding id
        id: i64,
    },
    /// 対応状況を変更 (番号指定、または --cve で同じ脆弱性の全機器) — change the remediation state (of these findings, or with --cve of every device's finding of that vulnerability)
    State {
        #[command(flatten)]
        select: FindingSelection,
        /// 新しい対応状況 (調査中|事業者確認中|適用予定|該当なし|誤検知|未対応 または investigating, asked_vendor, fix_planned, not_affected, false_positive, new) — the new state
        #[arg(long)]
        to: String,
        /// 理由 (該当なし・誤検知では必須) — why (required for not affected and false positive)
        #[arg(long)]
        reason: Option<String>,
        /// 適用予定日 YYYY-MM-DD (適用予定では必須) — planned date (required for fix planned)
        #[arg(long)]
        planned: Option<String>,
        /// 該当なしの根拠 (code_not_present, requires_configuration, … または日本語) — not-affected justification
        #[arg(long)]
        justification: Option<String>,
    },
    /// 代替策・リスク受容の申請と承認 — alternative measures and risk acceptance: propose, approve
    #[command(subcommand)]
    Exception(ExceptionCommand),
}

/// Which findings a workflow command covers: by number, by vulnerability, or by device.
#[derive(Debug, Args)]
pub struct FindingSelection {
    /// 検出番号 (複数可) — finding ids
    pub ids: Vec<i64>,
    /// この脆弱性の未解消の検出すべて — every still-present finding of this vulnerability
    #[arg(long, conflicts_with = "ids")]
    pub cve: Option<String>,
    /// この機器の未解消の検出すべて (例: サポート終了機器のリスク受容) — every still-present finding of this device (e.g. risk acceptance for a device past its support end)
    #[arg(long, conflicts_with_all = ["ids", "cve"])]
    pub asset: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// 申請 (検出番号、または --cve) — propose for findings (ids, or --cve)
    Propose {
        #[command(flatten)]
        select: FindingSelection,
        /// 種類: 代替策 (mitigated) または リスク受容 (risk_accepted) — kind
        #[arg(long)]
        kind: String,
        /// 措置 (複数可): network_isolation, acl, disable_service, remove_internet_path, monitoring, physical_restriction, other または日本語 — measure(s)
        #[arg(long = "measure")]
        measures: Vec<String>,
        /// 内容 — what exactly, where
        #[arg(long)]
        note: Option<String>,
        /// 残存リスク (低|中|高 / low|medium|high) — residual risk
        #[arg(long)]
        residual_risk: String,
        /// 見直し期限 YYYY-MM-DD (この日を過ぎると検出は未対応に戻る) — review date (after it the findings reopen)
        #[arg(long)]
        review: String,
    },
    /// 承認 (申請者以外の承認者) — approve (an approver other than the proposer)
    Approve {
        /// 例外番号 — exception id
        id: i64,
        /// コメント — comment
        #[arg(long)]
        reason: Option<String>,
    },
    /// 却下 — reject
    Reject {
        /// 例外番号 — exception id
        id: i64,
        /// 理由 — why
        #[arg(long)]
        reason: String,
    },
    /// 一覧 (見直し期限を過ぎたものは失効させる) — list (expiring those past their review date)
    List,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// 設定を変更 — change a setting (workflow.self_approval: true|false)
    Set {
        /// 設定名 — key
        key: String,
        /// 値 — value
        value: String,
    },
}

/// `--group-by` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GroupByArg {
    /// 機器の構成要素ごと (対応の単位) — per device component (the unit of action)
    Component,
    /// 脆弱性ごと — per vulnerability
    Vulnerability,
    /// 機器ごと — per device
    Asset,
}

#[derive(Debug, Subcommand)]
pub enum SbomCommand {
    /// 機器に SBOM を取り込む (同じ機器の前の SBOM は置き換え) — import an SBOM for a device (replaces its previous SBOM)
    Import {
        /// 管理番号 — asset id
        asset_id: String,
        /// CycloneDX (JSON/XML) または SPDX (JSON/tag-value) — the SBOM file
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CpeCommand {
    /// 候補を表示 — suggest CPE names from the names the store knows
    Suggest {
        /// 管理番号 — asset id
        asset_id: String,
    },
    /// CPE を設定 (CPE 列を置き換え) — set the device's CPE names (replaces the CPE column)
    Set {
        /// 管理番号 — asset id
        asset_id: String,
        /// CPE 名 (2.3 または 2.2) — CPE names
        #[arg(required = true)]
        cpe: Vec<String>,
        /// 理由 — reason
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// ファイル・フォルダから取り込む (形式は内容で判別、.gz/.tar.gz 可) — import files or folders (format from content; .gz and .tar.gz accepted)
    Import {
        /// ファイルまたはフォルダ — files or folders
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// 取り込み状況 — per-source status
    Status,
    /// インターネットから取得 (NVD API・KEV・EPSS。URL は設定で変更可) — fetch over HTTP (NVD API, KEV, EPSS; URLs configurable)
    Sync {
        /// 情報源 (nvd, kev, epss, alerts。既定: すべて) — sources (default: all)
        #[arg(long = "source")]
        sources: Vec<String>,
        /// 初回の NVD 取得の開始日 (既定: 120 日前) — where a first NVD sync starts (default: 120 days ago)
        #[arg(long)]
        since: Option<String>,
    },
    /// バンドル署名用の鍵を作る — create a bundle signing key pair (KEY and KEY.pub)
    Keygen {
        /// 秘密鍵の保存先 (公開鍵は .pub 付き) — where to write the secret key (the public key gets .pub)
        #[arg(long)]
        out: PathBuf,
    },
    /// 閉域網向けの署名付きバンドルを書き出す — write a signed offline bundle
    ExportBundle {
        /// 書き出し先 — the bundle file
        file: PathBuf,
        /// 署名用の秘密鍵 — the signing key
        #[arg(long)]
        key: PathBuf,
        /// この日時 (または以前のバンドル) 以降の差分だけ — only what was stored after this time (or an earlier bundle)
        #[arg(long)]
        since: Option<String>,
    },
    /// 署名付きバンドルを検証して取り込む — verify and import a signed bundle
    ImportBundle {
        /// バンドル — the bundle file
        file: PathBuf,
        /// 信頼する公開鍵 — the trusted public key
        #[arg(long)]
        trust: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum VulnCommand {
    /// 詳細 (CVE-… / JVNDB-…) — show one vulnerability
    Show {
        /// CVE-… または JVNDB-… — the id
        id: String,
    },
    /// 検索 — search ids and texts
    Search {
        /// 検索語 — search text
        text: String,
        /// 件数 — how many
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Excel/CSV から取り込む — import an .xlsx/.xls/.ods/.csv/.tsv ledger
    Import {
        /// 取り込むファイル — the file
        file: PathBuf,
        /// シート名 (既定: 先頭シート) — sheet name (default: the first)
        #[arg(long)]
        sheet: Option<String>,
        /// 見出しの対応表 (TOML) — header mapping file (TOML)
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// 確認のみ (変更しない) — check and count only; change nothing
        #[arg(long)]
        dry_run: bool,
        /// 不正な行を飛ばして残りを取り込む — import the valid rows, skip the invalid ones
        #[arg(long)]
        skip_invalid: bool,
        /// ファイルにない機器を廃棄済にする — retire devices the file no longer lists
        #[arg(long)]
        sync: bool,
        /// 確認なしで実行 — do not ask before retiring
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Excel/CSV に書き出す — export to .xlsx or .csv
    Export {
        /// 書き出し先 (.xlsx / .csv) — the file to write
        file: PathBuf,
        /// CSV の文字コード — CSV encoding
        #[arg(long, value_enum, default_value = "utf8")]
        encoding: EncodingArg,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// 一覧 — list devices
    List {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// 詳細 — show one device
    Show {
        /// 管理番号 — asset id
        asset_id: String,
    },
    /// 機器を追加 — add a device
    Add {
        /// 管理番号 — asset id
        asset_id: String,
        /// 機器名 — name
        #[arg(long)]
        name: String,
        /// 機器種別 — kind (サーバ, 端末PC, … / server, terminal, …)
        #[arg(long)]
        kind: Option<String>,
        /// 列=値 (例: --set 部署=放射線科 --set ip=127.0.0.1) — column=value, repeatable
        #[arg(long = "set", value_name = "COLUMN=VALUE")]
        set: Vec<String>,
    },
    /// 機器を変更 — change a device
    Edit {
        /// 管理番号 — asset id
        asset_id: String,
        /// 列=値 — column=value, repeatable
        #[arg(long = "set", value_name = "COLUMN=VALUE", required = true)]
        set: Vec<String>,
        /// 変更理由 — reason for the change
        #[arg(long)]
        reason: Option<String>,
    },
    /// 廃棄済にする (履歴は残る) — mark a device retired (history is kept)
    Retire {
        /// 管理番号 — asset id
        asset_id: String,
        /// 理由 — reason
        #[arg(long)]
        reason: Option<String>,
    },
    /// 棚卸しを記録 — record a stock-take
    Stocktake(StocktakeArgs),
    /// 棚卸しの履歴 — past stock-takes
    Stocktakes,
    /// 台帳の列と入力できる値 — the ledger's columns and accepted values
    Columns,
    /// CPE 名の候補と設定 — CPE name suggestions and setting
    #[command(subcommand)]
    Cpe(CpeCommand),
}

#[derive(Debug, Args)]
pub struct StocktakeArgs {
    /// 実施日 (既定: 今日) — date (default: today)
    #[arg(long)]
    pub date: Option<String>,
    /// 実施者 (既定: ログインユーザ) — who did it (default: the OS user)
    #[arg(long)]
    pub by: Option<String>,
    /// 確認済の管理番号 (カンマ区切り) — asset ids found (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub found: Vec<String>,
    /// 所在不明の管理番号 — asset ids missing
    #[arg(long, value_delimiter = ',')]
    pub missing: Vec<String>,
    /// 記載相違の管理番号 — asset ids found but with wrong details
    #[arg(long, value_delimiter = ',')]
    pub mismatch: Vec<String>,
    /// 結果ファイル (列: 管理番号, 結果, 備考) — results file (columns asset_id, result, note)
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// 指定のない稼働中・予備・停止中の機器を確認済にする — count every unlisted device in use as found
    #[arg(long)]
    pub rest_found: bool,
    /// メモ — note
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// 機器種別 — kind
    #[arg(long)]
    pub kind: Option<String>,
    /// 状態 — status
    #[arg(long)]
    pub status: Option<String>,
    /// 部署 (完全一致) — department (exact)
    #[arg(long)]
    pub department: Option<String>,
    /// 検索語 (管理番号・機器名・IP など) — search text (id, name, IP, …)
    #[arg(long)]
    pub search: Option<String>,
}

/// CSV encodings.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EncodingArg {
    /// UTF-8 (BOM 付き、Excel で開ける) — UTF-8 with BOM
    Utf8,
    /// CP932 (Shift_JIS)
    Cp932,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// 最近の記録 — the latest entries
    Tail {
        /// 件数 — how many
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// 改ざん検査 (ハッシュチェーン) — check the hash chain for tampering
    Verify,
    /// 全記録を JSON Lines で書き出し (ハッシュ付き) — write every entry as JSON Lines, with its hashes
    Export {
        /// 書き出し先 — the file to write
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// トークンを作成 (一度だけ表示) — make a token (shown once)
    Create {
        /// 用途 — what it is for
        name: String,
        /// この利用者のトークン (既定: 自分、他人は利用者管理の権限が必要) — for this user (default yourself)
        #[arg(long = "for")]
        for_user: Option<String>,
    },
    /// 一覧 (秘密は表示しない) — list tokens (never the secret)
    List,
    /// 取り消し — revoke a token
    Revoke {
        /// 番号 — token id
        id: i64,
    },
}
