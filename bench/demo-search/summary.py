"""Prints the GPU model search's results (OUT/results.jsonl): per candidate and protocol, the preset
replica's held-out AUC over split seeds.   python3 bench/demo-search/summary.py OUT/results.jsonl"""
import json, sys

for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get('phase') == 'eval':
        aucs = ' '.join('%.3f' % x['auc'] for x in r['rows'])
        print('%-16s %-10s edges=%-5s mean %.3f min %.3f >=0.85 %d/%d: %s' % (r['name'], r.get('tag', ''), r['edges'], r['mean_auc'], r['min_auc'], r['at_least_085'], len(r['rows']), aucs))
    elif r.get('phase') in ('ctx', 'error'):
        print(r)
