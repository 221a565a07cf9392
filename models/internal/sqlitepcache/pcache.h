int smiledash_pcache_install(void);
long long smiledash_pcache_scans_avoided(void);
int smiledash_pcache_check(void);
