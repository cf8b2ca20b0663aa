import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { annotationsByImage, parseCoco, writeCoco } from '../../../src/shared/datasets/formats/coco'
import { parseYolo, yoloToPixels } from '../../../src/shared/datasets/formats/yolo'
import { parseVoc } from '../../../src/shared/datasets/formats/voc'
import { parseXml } from '../../../src/shared/datasets/formats/xml'
import { landmarkClassName, parseLandmarkLabels } from '../../../src/shared/datasets/formats/landmarks'
import { mapClass } from '../../../src/shared/datasets/class-mapping'
import { FormatError } from '../../../src/shared/datasets/formats/format-error'
import { SHARED_DATA } from '../../support/built'

const coco = (o: object) => JSON.stringify({ images: [], annotations: [], categories: [{ id: 1, name: 'crater' }], ...o })

describe('COCO (Roboflow) reader', () => {
  it('joins annotations to images by image_id, never by list position', () => {
    const doc = parseCoco(
      coco({
        images: [{ id: 7, file_name: 'b.jpg', width: 10, height: 10 }, { id: 3, file_name: 'a.jpg', width: 10, height: 10 }],
        annotations: [{ id: 1, image_id: 3, category_id: 1, segmentation: [[1, 1, 5, 1, 5, 5]], bbox: [1, 1, 4, 4] }]
      }),
      'x.json'
    )
    const by = annotationsByImage(doc)
    expect(by.get(3)).toHaveLength(1)
    expect(by.get(7)).toHaveLength(0)
    expect(by.get(3)![0]!.polygons[0]).toEqual([[1, 1], [5, 1], [5, 5]])
  })

  it('says exactly what is wrong with a malformed file', () => {
    expect(() => parseCoco('{ nope', 'f.json')).toThrow(FormatError)
    expect(() => parseCoco('{ nope', 'f.json')).toThrow(/f\.json: not valid JSON/)
    expect(() => parseCoco(JSON.stringify({ images: [] }), 'f.json')).toThrow(/"annotations" is missing/)
    expect(() => parseCoco(coco({ images: [{ id: 1, file_name: 'a.jpg', width: 1, height: 1 }], annotations: [{ id: 5, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1] }] }), 'f.json')).toThrow(
      /annotations\[0\] \(id 5\) refers to image_id 2, which is not in "images"/
    )
    expect(() => parseCoco(coco({ images: [{ id: 1, file_name: 'a.jpg', width: 1, height: 1 }], annotations: [{ id: 5, image_id: 1, category_id: 1, segmentation: { counts: 'x' } }] }), 'f.json')).toThrow(/RLE/)
    expect(() => parseCoco(coco({ images: [{ id: 1, file_name: 'a.jpg', width: 1, height: 1 }], annotations: [{ id: 5, image_id: 1, category_id: 1, segmentation: [[1, 2, 3]] }] }), 'f.json')).toThrow(/at least 3 x,y/)
    expect(() => parseCoco(coco({ images: [{ id: 1, file_name: 'a.jpg', width: 1, height: 1 }, { id: 1, file_name: 'b.jpg', width: 1, height: 1 }] }), 'f.json')).toThrow(/image id 1 appears twice/)
  })

  it('writes what it reads', () => {
    const text = writeCoco([{ fileName: 't.jpg', width: 8, height: 8, annotations: [{ category: 'crater', polygon: [[1, 1], [4, 1], [4, 4]], bbox: [1, 1, 3, 3], area: 4.5 }] }], ['crater'])
    const back = parseCoco(text, 'w.json')
    expect(back.images[0]).toEqual({ id: 1, fileName: 't.jpg', width: 8, height: 8 })
    expect(back.annotations[0]).toMatchObject({ imageId: 1, category: 'crater', polygons: [[[1, 1], [4, 1], [4, 4]]] })
    expect(writeCoco([], ['crater'])).toBe(writeCoco([], ['crater']))
  })
})

describe('YOLO reader', () => {
  it('reads the crater boxes and converts to pixels', () => {
    const boxes = parseYolo('0 0.5 0.5 0.25 0.5\n\n', 'l.txt')
    expect(boxes).toEqual([{ classIndex: 0, cx: 0.5, cy: 0.5, w: 0.25, h: 0.5 }])
    expect(yoloToPixels(boxes[0]!, 640, 640)).toEqual({ x: 240, y: 160, w: 160, h: 320 })
    expect(parseYolo('', 'empty.txt')).toEqual([])
  })
  it('reports the line and field at fault', () => {
    expect(() => parseYolo('0 0.5 0.5 0.2', 'l.txt')).toThrow(/l\.txt: line 1: expected "class cx cy w h" \(5 fields\), got 4/)
    expect(() => parseYolo('0 0.5 0.5 0.2 0.2\n0 0.5 1.5 0.2 0.2', 'l.txt')).toThrow(/line 2: cy is not a number in \[0, 1\]/)
    expect(() => parseYolo('x 0.5 0.5 0.2 0.2', 'l.txt')).toThrow(/line 1: the class is not a non-negative integer/)
  })
  it('parses every label file of the shared crater boxes', () => {
    for (const split of ['train', 'valid']) {
      const dir = join(SHARED_DATA, 'mars-crater-boxes', 'labels', split)
      for (const f of readdirSync(dir)) expect(() => parseYolo(readFileSync(join(dir, f), 'utf8'), f)).not.toThrow()
    }
  })
})

describe('Pascal VOC reader and its XML parser', () => {
  it('reads the CTX catalogue: clustered boxes with confidence, and one annotator file', () => {
    const clustered = parseVoc(readFileSync(join(SHARED_DATA, 'ctx-crater-catalogue/annotations/clustered/MC11E-A.xml'), 'utf8'), 'MC11E-A.xml')
    expect(clustered.filename).toBe('MC11E-A')
    expect(clustered.width).toBe(2000)
    expect(clustered.objects.length).toBeGreaterThan(10)
    expect(clustered.objects[0]).toEqual({ name: 'crater', xmin: 1670, ymin: 1221, xmax: 1680, ymax: 1230, confidence: 2 })
    const raw = parseVoc(readFileSync(join(SHARED_DATA, 'ctx-crater-catalogue/annotations/raw/MC11E-A/xyz8p8.xml'), 'utf8'), 'xyz8p8.xml')
    expect(raw.filename).toBe('MC11E-A.png')
    expect(raw.objects[0]).toMatchObject({ name: 'Crater', xmin: 598, confidence: null })
  })

  it('gives specific errors', () => {
    expect(() => parseVoc('<annotation><filename>a.png</filename><object><name>c</name></object></annotation>', 'a.xml')).toThrow(/object 1 has no <bndbox>/)
    expect(() => parseVoc('<annotation><filename>a.png</filename><object><name>c</name><bndbox><xmin>1</xmin><ymin>x</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>', 'a.xml')).toThrow(
      /<ymin> is not a number/
    )
    expect(() => parseVoc('<annotation><filename>a.png</filename>', 'a.xml')).toThrow(/not well-formed XML: an element is not closed at line 1/)
    expect(() => parseVoc('<foo/>', 'a.xml')).toThrow(/root element is not <annotation>/)
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')).toThrow(/DOCTYPE/)
    expect(parseXml('<?xml version="1.0"?><!-- c --><a k="v &amp; w"><b>1 &lt; 2</b><![CDATA[<raw>]]></a>')).toMatchObject({ name: 'a', attributes: { k: 'v & w' }, text: '<raw>', children: [{ name: 'b', text: '1 < 2' }] })
  })
})

describe('landmark label list', () => {
  it('names the 7 classes; the default mapping makes class 1 crater and drops class 6 edge', () => {
    const labels = parseLandmarkLabels(readFileSync(join(SHARED_DATA, 'hirise-landmarks-v1/labels-map-proj.txt'), 'utf8'), 'labels')
    expect(labels.length).toBeGreaterThan(2000)
    expect(labels[0]).toEqual({ fileName: 'ESP_011283_2265_RED-0032.jpg', classIndex: 0 })
    const merge = { mode: 'crater-vs-rest' as const, drop: ['edge'] }
    expect(mapClass(merge, landmarkClassName(1))).toBe('crater')
    expect(mapClass(merge, landmarkClassName(2))).toBe('no-crater')
    expect(mapClass(merge, landmarkClassName(5))).toBe('no-crater')
    expect(mapClass(merge, landmarkClassName(6))).toBeNull()
    expect(mapClass({ mode: 'keep' }, landmarkClassName(3))).toBe('slope-streak')
    expect(landmarkClassName(9)).toBe('class-9')
    expect(() => parseLandmarkLabels('a.jpg one', 'l.txt')).toThrow(/line 1/)
  })
})
