//! What a host's files say never panics the collector: os-release, dpkg status, passwd and
//! shadow, sshd_config, GRUB, display-manager files, /proc/net tables, ss output, and a tar
//! from SSH.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori_host::parse;

fuzz_target!(|data: &[u8]| {
    let t = String::from_utf8_lossy(data);
    let _ = parse::os_release(&t);
    let _ = parse::dpkg_status(&t);
    let _ = parse::rpm_list(&t);
    let _ = parse::accounts(&t, Some(&t));
    let _ = parse::sshd_config(&t);
    let _ = parse::grub_password(&t);
    let _ = parse::autologin(&[("f", &t)]);
    let _ = parse::proc_net("tcp6", &t);
    let _ = parse::ss_listeners(&t);
    let _ = mamori_host::collect_tar(data, "fuzz".into());
});
